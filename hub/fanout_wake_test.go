package hub

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
)

// TestSubscribeWakeDrain (issue 15): a SubscribeWake subscription parks no
// goroutine: the hub calls wake when a message is queued and when the
// subscription ends, Drain hands out everything queued in order, a replay
// from a PagedHistory wakes the caller again after each page until the log
// is read, overflow ends it with *SlowError, and Options.Frame runs once
// per message, its result shared by every subscriber.
func TestSubscribeWakeDrain(t *testing.T) {
	log := newLog(1000)
	paged := &pagedLog{memLog: log}
	var framed atomic.Int64
	h := newHub(t, Options{History: paged, ReplayPageBytes: 300, QueueBytes: 4 << 10,
		Frame: func(d []byte) []byte { framed.Add(1); return append([]byte("F:"), d...) }})
	const canvas = "c1"
	for range 20 {
		log.commit(canvas) // a log of 20 events, ~100 bytes each: several pages
	}

	var wakes atomic.Int64
	s, err := h.SubscribeWake(canvas, ptr(0), "a", func() { wakes.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := h.SubscribeWake(canvas, ptr(20), "b", func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	// The replay, a page per Drain; each Drain that leaves pages to read
	// wakes the caller so that it comes back.
	want := uint64(1)
	var buf []Message
	for drains := 0; want <= 20; drains++ {
		if drains > 20 {
			t.Fatalf("replay stuck at seq %d", want)
		}
		before := wakes.Load()
		buf, err = s.Drain(buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range buf {
			checkMsg(t, m, canvas, want)
			if m.Frame != nil {
				t.Fatalf("replayed seq %d has a Frame", m.Seq)
			}
			want++
		}
		if want <= 20 && wakes.Load() == before {
			t.Fatalf("Drain returned up to seq %d of 20 without waking the caller for the next page", want-1)
		}
	}
	if paged.pages < 2 {
		t.Fatalf("replay read %d pages, want several", paged.pages)
	}

	// Live messages: each wakes; Drain returns them in order, framed once.
	w0 := wakes.Load()
	for range 3 {
		h.Publish(log.commit(canvas))
	}
	if wakes.Load() < w0+3 {
		t.Fatalf("%d wakes for 3 queued messages", wakes.Load()-w0)
	}
	buf, err = s.Drain(buf[:0])
	if err != nil || len(buf) != 3 {
		t.Fatalf("Drain: %d messages, %v; want 3", len(buf), err)
	}
	ob, err := other.Drain(nil)
	if err != nil || len(ob) != 3 {
		t.Fatalf("other Drain: %d messages, %v; want 3", len(ob), err)
	}
	for i, m := range buf {
		checkMsg(t, m, canvas, 21+uint64(i))
		if !bytes.Equal(m.Frame, append([]byte("F:"), m.Data...)) || &m.Frame[0] != &ob[i].Frame[0] {
			t.Fatalf("seq %d: Frame %q not the one shared frame", m.Seq, m.Frame)
		}
	}
	if n := framed.Load(); n != 3 {
		t.Fatalf("Options.Frame ran %d times for 3 messages and 2 subscribers", n)
	}
	if buf, err = s.Drain(buf[:0]); err != nil || len(buf) != 0 {
		t.Fatalf("empty Drain: %d messages, %v", len(buf), err)
	}

	// Overflow: the subscription ends, wake is called, Drain says why.
	w0 = wakes.Load()
	for range 60 {
		h.Publish(log.commit(canvas))
	}
	if wakes.Load() == w0 {
		t.Fatal("no wake when the subscription ended")
	}
	_, err = s.Drain(nil)
	var slow *SlowError
	if !errors.As(err, &slow) || slow.LastSeq != 23 {
		t.Fatalf("Drain after overflow: %v, want *SlowError with LastSeq 23", err)
	}
}
