package imaging

import (
	"errors"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func loaderOf(w, h int, calls *atomic.Int64) func() (*image.NRGBA, error) {
	return func() (*image.NRGBA, error) {
		calls.Add(1)
		return image.NewNRGBA(image.Rect(0, 0, w, h)), nil
	}
}

func TestSourceCacheLRU(t *testing.T) {
	c := NewSourceCache(3 * 400) // three 10x10 NRGBA images
	var calls atomic.Int64
	get := func(key string) bool {
		t.Helper()
		img, hit, err := c.Get(key, loaderOf(10, 10, &calls))
		if err != nil || img == nil || img.Rect.Dx() != 10 {
			t.Fatalf("Get(%s) = %v, %v", key, img, err)
		}
		return hit
	}
	for _, k := range []string{"a", "b", "c"} {
		if get(k) {
			t.Errorf("%s: first Get was a hit", k)
		}
	}
	if !get("a") { // a is now the most recent; b is the oldest
		t.Error("a: second Get missed")
	}
	get("d") // evicts b
	if _, _, b := c.Stats(); b != 1200 || c.Len() != 3 {
		t.Errorf("bytes %d, len %d; want 1200, 3", b, c.Len())
	}
	if get("b") {
		t.Error("b should have been evicted")
	}
	if !get("a") || !get("d") {
		t.Error("a and d should still be cached")
	}
	hits, misses, _ := c.Stats()
	if hits != 3 || misses != 5 || calls.Load() != 5 {
		t.Errorf("hits %d misses %d loads %d; want 3 5 5", hits, misses, calls.Load())
	}

	// An image larger than the whole cache is returned but not kept.
	img, hit, err := c.Get("big", loaderOf(100, 100, &calls))
	if err != nil || hit || img.Rect.Dx() != 100 {
		t.Fatalf("big: %v %v", hit, err)
	}
	if _, _, b := c.Stats(); b != 1200 {
		t.Errorf("big image was cached: %d bytes", b)
	}
	c.Remove("a")
	if _, _, b := c.Stats(); b != 800 || c.Len() != 2 {
		t.Errorf("after Remove: bytes %d len %d", b, c.Len())
	}
}

func TestSourceCacheSingleflight(t *testing.T) {
	c := NewSourceCache(1 << 20)
	var calls atomic.Int64
	release := make(chan struct{})
	load := func() (*image.NRGBA, error) {
		calls.Add(1)
		<-release
		return image.NewNRGBA(image.Rect(0, 0, 8, 8)), nil
	}
	const n = 16
	var wg sync.WaitGroup
	var started sync.WaitGroup
	imgs := make([]*image.NRGBA, n)
	loads := atomic.Int64{}
	started.Add(n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			img, hit, err := c.Get("k", load)
			if err != nil {
				t.Error(err)
			}
			if !hit {
				loads.Add(1)
			}
			imgs[i] = img
		}()
	}
	started.Wait()
	// Let every goroutine reach Get before the load finishes: spin until
	// all but the loader are counted as waiting hits.
	for {
		h, m, _ := c.Stats()
		if h+m == n {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 || loads.Load() != 1 {
		t.Errorf("load ran %d times, %d callers saw a miss; want 1 and 1", calls.Load(), loads.Load())
	}
	for i := range imgs {
		if imgs[i] != imgs[0] {
			t.Fatal("callers got different images")
		}
	}
}

func TestSourceCacheErrors(t *testing.T) {
	c := NewSourceCache(1 << 20)
	boom := errors.New("boom")
	if _, hit, err := c.Get("k", func() (*image.NRGBA, error) { return nil, boom }); !errors.Is(err, boom) || hit {
		t.Fatalf("err = %v hit = %v", err, hit)
	}
	if c.Len() != 0 {
		t.Error("a failed load was cached")
	}
	if _, _, err := c.Get("k", func() (*image.NRGBA, error) { return nil, nil }); err == nil {
		t.Error("nil image without error was accepted")
	}
	// A panicking load panics its caller but leaves the key usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		c.Get("k", func() (*image.NRGBA, error) { panic("load") })
	}()
	var calls atomic.Int64
	if _, hit, err := c.Get("k", loaderOf(2, 2, &calls)); err != nil || hit || calls.Load() != 1 {
		t.Errorf("after panic: hit %v err %v calls %d", hit, err, calls.Load())
	}
}
