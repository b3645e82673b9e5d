package hub

import "fmt"

// TopicBroker is a Broker that delivers a canvas's messages to a node only
// while the node has joined that canvas, so that a node receives the
// traffic of the canvases its viewers watch, not of every canvas. The hub
// joins a topic when it gets its first local subscriber, before any of
// them reads History (so nothing published after the read is missed), and
// leaves it when its last subscriber goes. Join and Leave are counted: a
// topic dropped and re-created quickly may call Join again before the old
// Leave. MemoryBroker is not one: within one process there is no traffic to
// save.
type TopicBroker interface {
	Broker
	// Join makes the broker deliver canvas's messages to this node's
	// handlers; it returns once the subscription is in effect.
	Join(canvas string) error
	// Leave undoes one Join; the broker may keep delivering for a while.
	Leave(canvas string)
}

// join joins t on a TopicBroker and releases the subscribers waiting for
// it. A failure is reported, not fatal: the topic still gets its local
// publishes, and gap fills and the head check bring the rest.
func (h *Hub) join(t *topic) {
	tb, ok := h.opts.Broker.(TopicBroker)
	if !ok || t.joined == nil {
		return
	}
	if err := tb.Join(t.canvas); err != nil && h.opts.OnBrokerError != nil {
		h.opts.OnBrokerError(fmt.Errorf("hub: broker join %s: %w", t.canvas, err))
	}
	close(t.joined)
}

// leave undoes join for a dropped topic, after the join has returned.
func (h *Hub) leave(t *topic) {
	tb, ok := h.opts.Broker.(TopicBroker)
	if !ok || t.joined == nil {
		return
	}
	select {
	case <-t.joined:
		tb.Leave(t.canvas)
	default:
		go func() {
			<-t.joined
			tb.Leave(t.canvas)
		}()
	}
}
