package hub

import (
	"sync"
	"testing"
)

// pagedLog is a memLog that also serves pages, and records the largest
// page it handed out and how many pages it served.
type pagedLog struct {
	*memLog
	mu      sync.Mutex
	pages   int
	maxPage int
}

var _ PagedHistory = (*pagedLog)(nil)

func (l *pagedLog) SincePage(canvas string, since uint64, maxBytes int) ([]Message, bool, error) {
	evs, err := l.memLog.Since(canvas, since)
	if err != nil {
		return nil, false, err
	}
	size, n := 0, 0
	for n < len(evs) && size < maxBytes {
		size += len(evs[n].Data)
		n++
	}
	l.mu.Lock()
	l.pages++
	l.maxPage = max(l.maxPage, n)
	l.mu.Unlock()
	return evs[:n], n < len(evs), nil
}

// queued drains what is queued for s without reading a page, checking seqs.
func queued(tb testing.TB, s *Subscription, canvas string, want *uint64) int {
	tb.Helper()
	n := 0
	for {
		m, ok := s.TryNext()
		if !ok {
			return n
		}
		checkMsg(tb, m, canvas, *want)
		*want++
		n++
	}
}

// TestSecurity03_PagedReplay: a replay from a PagedHistory queues one page at
// a time (so a subscriber's memory is bounded by the page, not by the log),
// and still delivers every event once, in order, across live publishes that
// arrive while it pages.
func TestSecurity03_PagedReplay(t *testing.T) {
	log := &pagedLog{memLog: newLog(10000)}
	for i := 0; i < 200; i++ {
		log.commit("c")
	}
	page := 3 * len(payload("c", 100))
	h := newHub(t, Options{History: log, ReplayPageBytes: page})
	s := subscribe(t, h, "c", ptr(0), "v")

	want := uint64(1)
	if n := queued(t, s, "c", &want); n == 0 || n > 4 {
		t.Fatalf("after Subscribe %d events were queued, want one page (1..4)", n)
	}
	// Live events while the replay pages: held, then merged without a gap.
	for i := 0; i < 5; i++ {
		h.Publish(log.commit("c"))
	}
	for want <= 100 {
		checkMsg(t, next(t, s), "c", want)
		want++
		if n := queued(t, s, "c", &want); n > 4 {
			t.Fatalf("%d events queued at once, want at most a page", n)
		}
	}
	for i := 0; i < 5; i++ {
		h.Publish(log.commit("c"))
	}
	expectRange(t, s, "c", want, 210)
	h.Publish(log.commit("c"))
	expectRange(t, s, "c", 211, 211)
	expectEmpty(t, s)
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.maxPage > 4 || log.pages < 50 {
		t.Fatalf("pages served %d, largest %d events: want many small pages", log.pages, log.maxPage)
	}
}

// TestSecurity03_PagedReplayTrimmed: a log trimmed beneath a paging
// subscriber ends it with *SlowError (resume from its last seq answers
// RESYNC), never with a silent gap.
func TestSecurity03_PagedReplayTrimmed(t *testing.T) {
	log := &pagedLog{memLog: newLog(50)}
	for i := 0; i < 50; i++ {
		log.commit("c")
	}
	page := 2 * len(payload("c", 10))
	h := newHub(t, Options{History: log, ReplayPageBytes: page})
	s := subscribe(t, h, "c", ptr(0), "v")
	want := uint64(1)
	queued(t, s, "c", &want)
	for i := 0; i < 100; i++ { // trims everything the subscriber still needs
		log.commit("c")
	}
	ctx := t.Context()
	_, err := s.Next(ctx)
	slow, ok := err.(*SlowError)
	if !ok || slow.LastSeq != want-1 {
		t.Fatalf("Next after the log was trimmed: %v, want *SlowError at %d", err, want-1)
	}
}
