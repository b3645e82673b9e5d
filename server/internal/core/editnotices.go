package core

import (
	"sync"
	"time"
)

// editNoticeEvery is how often, at most, the canvas list hears that one
// canvas's content changed (store.EvCanvasEdited). Live typing and dragging
// commit many times a second and a canvas list shows minutes; every list
// subscriber re-reads the canvas for each notice, so they are coalesced: the
// first passes at once, later ones within the window are held and the last
// of them goes out when it ends (so the list never keeps a stale time).
const editNoticeEvery = time.Second

// editNotices coalesces the canvas-list notices of content edits per canvas.
type editNotices struct {
	mu      sync.Mutex
	m       map[string]*editNotice
	publish func(data []byte)
}

type editNotice struct {
	last    time.Time
	pending []byte
	timer   *time.Timer
}

// add publishes data now, or holds it until the canvas's window ends.
func (n *editNotices) add(canvas string, data []byte) {
	now := time.Now()
	n.mu.Lock()
	if n.m == nil {
		n.m = map[string]*editNotice{}
	}
	if len(n.m) >= 10000 {
		for id, e := range n.m {
			if e.timer == nil && now.Sub(e.last) >= editNoticeEvery {
				delete(n.m, id)
			}
		}
	}
	e := n.m[canvas]
	if e == nil {
		e = &editNotice{}
		n.m[canvas] = e
	}
	switch {
	case e.timer != nil:
		e.pending = data
	case now.Sub(e.last) >= editNoticeEvery:
		e.last = now
		n.mu.Unlock()
		n.publish(data)
		return
	default:
		e.pending = data
		e.timer = time.AfterFunc(e.last.Add(editNoticeEvery).Sub(now), func() {
			n.mu.Lock()
			d := e.pending
			e.pending, e.timer, e.last = nil, nil, time.Now()
			n.mu.Unlock()
			n.publish(d)
		})
	}
	n.mu.Unlock()
}
