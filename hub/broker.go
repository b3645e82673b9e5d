package hub

import (
	"sync"
	"sync/atomic"
)

// Broker fans messages out between nodes. Publish hands a message to every
// node, this one included; each node's handler (registered by its Hub through
// Subscribe) delivers it to the node's local subscribers. Handlers may be
// called concurrently and must not block. A broker may deliver a message more
// than once or out of order: the hub drops duplicates by Seq and reorders.
type Broker interface {
	Publish(m Message) error
	Subscribe(handler func(Message)) (cancel func(), err error)
}

// MemoryBroker is the single-node Broker: Publish calls every handler
// synchronously in the caller's goroutine. It is the default.
type MemoryBroker struct {
	mu       sync.Mutex // serialises Subscribe and cancel
	handlers atomic.Pointer[[]*memHandler]
}

type memHandler struct{ fn func(Message) }

// Interface guard.
var _ Broker = (*MemoryBroker)(nil)

// NewMemoryBroker returns a broker that delivers within the process.
func NewMemoryBroker() *MemoryBroker { return &MemoryBroker{} }

// Publish calls every registered handler with m. It never fails. Handlers
// are read from a copy-on-write list, so Publish takes no lock.
func (b *MemoryBroker) Publish(m Message) error {
	if hs := b.handlers.Load(); hs != nil {
		for _, h := range *hs {
			h.fn(m)
		}
	}
	return nil
}

// Subscribe registers handler. The returned cancel removes it and is
// idempotent; a Publish already in progress may still call it once.
func (b *MemoryBroker) Subscribe(handler func(Message)) (func(), error) {
	h := &memHandler{fn: handler}
	b.mu.Lock()
	var next []*memHandler
	if old := b.handlers.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, h)
	b.handlers.Store(&next)
	b.mu.Unlock()

	var once sync.Once
	cancel := func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			old := b.handlers.Load()
			if old == nil {
				return
			}
			next := make([]*memHandler, 0, len(*old))
			for _, x := range *old {
				if x != h {
					next = append(next, x)
				}
			}
			b.handlers.Store(&next)
		})
	}
	return cancel, nil
}
