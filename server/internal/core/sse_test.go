package core

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBatchLogRegistryExpiryAndMemoryBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := newLogRegistry(time.Hour, 3000, func() time.Time { return now })
	mk := func(id string, payload int, finish bool) *EventLog {
		l := NewEventLog(id, "cv", 1)
		l.Append("x", strings.Repeat("a", payload))
		if finish {
			l.Finish(now)
		}
		reg.Add(l)
		return l
	}
	running := mk("running", 10, false)
	mk("old", 1000, true)
	now = now.Add(30 * time.Minute)
	mk("mid", 1000, true)
	if reg.Get("old") == nil || reg.Get("mid") == nil {
		t.Fatal("finished batches must stay replayable within the hour")
	}
	now = now.Add(31 * time.Minute)
	if reg.Get("old") != nil {
		t.Fatal("a batch finished 61 minutes ago is still replayable")
	}
	if reg.Get("mid") == nil || reg.Get("running") != running {
		t.Fatal("a younger finished batch, or a running one, expired")
	}
	// Over the byte bound the oldest finished batches go first; running ones stay.
	mk("new1", 1000, true)
	mk("new2", 1000, true)
	if reg.Get("mid") != nil || reg.Get("new1") == nil || reg.Get("new2") == nil || reg.Get("running") == nil {
		t.Fatalf("after exceeding the byte bound: mid=%v new1=%v new2=%v running=%v",
			reg.Get("mid") != nil, reg.Get("new1") != nil, reg.Get("new2") != nil, reg.Get("running") != nil)
	}

	// A log keeps ids growing by one, and since() returns only newer events.
	l := NewEventLog("ids", "cv", 1)
	for i := 0; i < sseRingCap+5; i++ {
		l.Append("e", i)
	}
	evs, done, _ := l.Since(sseRingCap + 3)
	if done || len(evs) != 2 || evs[0].ID != sseRingCap+4 || string(evs[1].Data) != strconv.Itoa(sseRingCap+4) {
		t.Fatalf("since: %d events, done %v", len(evs), done)
	}
	if all, _, _ := l.Since(0); len(all) != sseRingCap || all[0].ID != 6 {
		t.Fatalf("ring holds %d events from id %d, want %d from 6", len(all), all[0].ID, sseRingCap)
	}
}
