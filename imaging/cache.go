package imaging

import (
	"container/list"
	"image"
	"sync"
)

// SourceCache keeps decoded source images, keyed by the caller (normally the
// source's content hash, so a key never goes stale), in a least-recently-used
// list bounded by the bytes of their pixel buffers. Concurrent misses of one
// key share a single load. Cached images are shared between callers and must
// be treated as read-only (CropFrac returns read-only views, which is fine).
// It is safe for concurrent use.
type SourceCache struct {
	maxBytes int64

	mu       sync.Mutex
	ll       *list.List // front = most recently used; values are *cacheEntry
	items    map[string]*list.Element
	inflight map[string]*cacheCall
	bytes    int64
	hits     int64
	misses   int64
}

type cacheEntry struct {
	key  string
	img  *image.NRGBA
	size int64
}

type cacheCall struct {
	done chan struct{}
	img  *image.NRGBA
	err  error
}

// NewSourceCache returns a cache holding at most maxBytes of pixels. An image
// larger than maxBytes is returned to its caller but not kept; maxBytes <= 0
// keeps nothing (loads are still shared between concurrent callers).
func NewSourceCache(maxBytes int64) *SourceCache {
	return &SourceCache{
		maxBytes: maxBytes,
		ll:       list.New(),
		items:    map[string]*list.Element{},
		inflight: map[string]*cacheCall{},
	}
}

// Get returns the image for key, calling load on a miss. hit is true when
// this call did not run load: the image was cached, or another caller's load
// of the same key was already running and this call waited for it. A failed
// load is not cached; the callers waiting on it get its error.
func (c *SourceCache) Get(key string, load func() (*image.NRGBA, error)) (*image.NRGBA, bool, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		c.hits++
		img := el.Value.(*cacheEntry).img
		c.mu.Unlock()
		return img, true, nil
	}
	if call, ok := c.inflight[key]; ok {
		c.hits++
		c.mu.Unlock()
		<-call.done
		return call.img, true, call.err
	}
	call := &cacheCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.misses++
	c.mu.Unlock()

	func() {
		// A panicking load must still release the waiters.
		defer func() {
			if call.img == nil && call.err == nil {
				call.err = errLoadPanicked
			}
			c.mu.Lock()
			delete(c.inflight, key)
			if call.err == nil {
				c.add(key, call.img)
			}
			c.mu.Unlock()
			close(call.done)
		}()
		call.img, call.err = load()
		if call.img == nil && call.err == nil {
			call.err = errLoadNil
		}
	}()
	return call.img, false, call.err
}

// add inserts img and evicts from the back until the cache fits. c.mu held.
func (c *SourceCache) add(key string, img *image.NRGBA) {
	size := int64(cap(img.Pix))
	if size > c.maxBytes {
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, img: img, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		el := c.ll.Back()
		e := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.items, e.key)
		c.bytes -= e.size
	}
}

// Remove drops key from the cache, if present.
func (c *SourceCache) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.Remove(el)
		delete(c.items, key)
		c.bytes -= el.Value.(*cacheEntry).size
	}
}

// Stats returns the hit and miss (load) counts so far and the bytes held.
func (c *SourceCache) Stats() (hits, misses int64, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.bytes
}

// Len returns the number of cached images.
func (c *SourceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

type cacheError string

func (e cacheError) Error() string { return string(e) }

const (
	errLoadPanicked cacheError = "imaging: source cache load panicked"
	errLoadNil      cacheError = "imaging: source cache load returned no image"
)
