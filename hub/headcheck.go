package hub

import (
	"context"
	"fmt"
	"time"
)

// headCheckLoop runs CheckHeads every Options.HeadCheck until Close.
func (h *Hub) headCheckLoop() {
	tick := time.NewTicker(h.opts.HeadCheck)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(h.opts.HeadCheck, time.Second))
			h.CheckHeads(ctx)
			cancel()
		}
	}
}

// CheckHeads reads the heads of every canvas with local subscribers in one
// History read and, for each canvas whose head is beyond what the hub has
// delivered, fills the difference from History (in the background, like a
// gap fill). It runs every Options.HeadCheck; a broker that knows it lost
// messages (a NATS slow-consumer error) may also call it at once. It does
// nothing unless Options.History is a HeadReader.
//
// What "delivered" means: the topic's next expected Seq, or, before the
// topic saw any sequenced message, the lowest Seq its subscribers were
// resumed from (Subscribe with since). A topic whose subscribers all joined
// live, with no Seq yet, has nothing to compare and is left alone.
func (h *Hub) CheckHeads(ctx context.Context) {
	hr, ok := h.opts.History.(HeadReader)
	if !ok {
		return
	}
	h.mu.RLock()
	if h.closed || len(h.topics) == 0 {
		h.mu.RUnlock()
		return
	}
	topics := make([]*topic, 0, len(h.topics))
	names := make([]string, 0, len(h.topics))
	for name, t := range h.topics {
		topics = append(topics, t)
		names = append(names, name)
	}
	h.mu.RUnlock()

	heads, err := hr.Heads(ctx, names)
	if err != nil {
		if h.opts.OnHeadCheckError != nil {
			h.opts.OnHeadCheckError(fmt.Errorf("hub: head check of %d canvases: %w", len(names), err))
		}
		return
	}
	for _, t := range topics {
		head := heads[t.canvas]
		if head == 0 {
			continue
		}
		t.mu.Lock()
		base, known := t.deliveredLocked()
		if t.dead || t.filling || !known || head <= base {
			t.mu.Unlock()
			continue
		}
		if t.next == 0 {
			t.next = base + 1
		}
		t.headSeen = max(t.headSeen, head)
		h.disarmGapLocked(t)
		t.filling = true
		t.mu.Unlock()
		if h.opts.OnHeadRepair != nil {
			h.opts.OnHeadRepair(t.canvas)
		}
		go h.fill(t)
	}
}

// deliveredLocked returns the last Seq t has delivered, and whether it is
// known. t.mu is held.
func (t *topic) deliveredLocked() (uint64, bool) {
	if t.next > 0 {
		return t.next - 1, true
	}
	base, known := uint64(0), false
	for _, s := range t.subs {
		s.mu.Lock()
		if s.hasSeq && s.err == nil && (!known || s.lastEnq < base) {
			base, known = s.lastEnq, true
		}
		s.mu.Unlock()
	}
	return base, known
}
