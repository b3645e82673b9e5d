package canvus

import (
	"bytes"
	"testing"
)

func TestPreviewCacheBound(t *testing.T) {
	c := newPreviewCache(100)
	c.put("a", 1, make([]byte, 40))
	c.put("b", 1, make([]byte, 40))
	if _, ok := c.get("a", 1); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", 1, make([]byte, 40)) // 120 > 100: evicts b, the least recent
	if _, ok := c.get("b", 1); ok {
		t.Error("b kept past the byte bound")
	}
	if _, ok := c.get("a", 1); !ok {
		t.Error("a evicted although used more recently than b")
	}
	if c.used != 80 {
		t.Errorf("used = %d, want 80", c.used)
	}
	c.put("huge", 1, make([]byte, 101))
	if _, ok := c.get("huge", 1); ok {
		t.Error("an entry larger than the whole bound was kept")
	}
}

func TestPreviewCacheSeq(t *testing.T) {
	c := newPreviewCache(1 << 20)
	c.put("a", 5, []byte("five"))
	if _, ok := c.get("a", 6); ok {
		t.Error("a preview drawn at seq 5 served for seq 6")
	}
	c.put("a", 4, []byte("four")) // a slow render of an older state
	if got, ok := c.get("a", 5); !ok || !bytes.Equal(got, []byte("five")) {
		t.Errorf("get(a, 5) = %q, %v: an older render replaced a newer one", got, ok)
	}
	c.put("a", 7, []byte("seven"))
	if got, ok := c.get("a", 7); !ok || string(got) != "seven" || c.used != 5 {
		t.Errorf("get(a, 7) = %q, %v, used %d", got, ok, c.used)
	}
}
