package canvus

import (
	"container/list"
	"sync"
)

// previewCache keeps the newest preview PNG of each canvas, keyed by the
// canvas's event seq when it was drawn: a canvas's seq moves on every
// change, so an entry is valid exactly while the seq it was drawn at is the
// canvas's head. It is an LRU bounded in bytes; one canvas has at most one
// entry.
type previewCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	ll    *list.List               // of *previewEntry, most recently used first
	items map[string]*list.Element // canvas id -> element
}

type previewEntry struct {
	canvas string
	seq    uint64
	png    []byte
}

func newPreviewCache(maxBytes int64) *previewCache {
	return &previewCache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the canvas's preview drawn at seq.
func (c *previewCache) get(canvas string, seq uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[canvas]
	if !ok {
		return nil, false
	}
	e := el.Value.(*previewEntry)
	if e.seq != seq {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.png, true
}

// put stores png as the canvas's preview at seq, unless a newer one is
// already there or png alone exceeds the bound.
func (c *previewCache) put(canvas string, seq uint64, png []byte) {
	size := int64(len(png))
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[canvas]; ok {
		e := el.Value.(*previewEntry)
		if e.seq > seq {
			return
		}
		c.used -= int64(len(e.png))
		e.seq, e.png = seq, png
		c.used += size
		c.ll.MoveToFront(el)
	} else {
		c.items[canvas] = c.ll.PushFront(&previewEntry{canvas: canvas, seq: seq, png: png})
		c.used += size
	}
	for c.used > c.max {
		el := c.ll.Back()
		e := el.Value.(*previewEntry)
		c.ll.Remove(el)
		delete(c.items, e.canvas)
		c.used -= int64(len(e.png))
	}
}
