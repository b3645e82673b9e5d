package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncLog records the durability steps the store reports through
// Options.onSync.
type syncLog struct {
	mu  sync.Mutex
	evs []syncEvent
}

func (l *syncLog) add(e syncEvent) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

// since returns the events after the first n.
func (l *syncLog) since(n int) []syncEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]syncEvent(nil), l.evs[n:]...)
}

func (l *syncLog) len() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.evs) }

// TestFsyncPerAcknowledgedCommit counts the fsyncs behind acknowledged
// writes: every Write that returns nil was answered by a bbolt commit that
// bbolt fdatasynced (its DB.NoSync false, which tx.Commit reads), one commit
// per write when they come one at a time and never more commits than writes
// when they come together (group commit); a blob file is fsynced, then its
// directory, before PutBlobFile returns. It fails if NoSync is set on the
// store or on bbolt, or if either blob fsync is removed. What it proves is
// that the fsyncs are issued; that the disk honours them (power loss) is not
// tested anywhere.
func TestFsyncPerAcknowledgedCommit(t *testing.T) {
	log := &syncLog{}
	s := openTestStore(t, Options{onSync: log.add})
	if s.db.NoSync {
		t.Fatal("bbolt opened with NoSync")
	}
	write := func(i int) error {
		return s.Write(func(tx *Tx) error {
			_, err := tx.AppendEvent("c", EvWidgetUpdated, map[string]any{"i": i})
			return err
		})
	}

	// One at a time: each acknowledgement follows exactly one synced commit.
	for i := range 20 {
		mark := log.len()
		if err := write(i); err != nil {
			t.Fatal(err)
		}
		evs := log.since(mark)
		if len(evs) != 1 || evs[0].kind != "commit" || evs[0].acks != 1 || !evs[0].synced {
			t.Fatalf("write %d acknowledged after %+v, want one synced commit answering it", i, evs)
		}
	}

	// Together, with failures: every acknowledged write is covered by a
	// synced commit, failed writes by none, and no commit is wasted.
	const writers = 200
	boom := errors.New("boom")
	mark := log.len()
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Write(func(tx *Tx) error {
				if _, err := tx.AppendEvent("c", EvWidgetUpdated, map[string]any{"i": i}); err != nil {
					return err
				}
				if i%10 == 3 {
					return fmt.Errorf("writer %d: %w", i, boom)
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	acked := 0
	for i, err := range errs {
		switch {
		case err == nil:
			acked++
		case !errors.Is(err, boom) || i%10 != 3:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	commits, covered := 0, 0
	for _, e := range log.since(mark) {
		if e.kind != "commit" {
			t.Fatalf("unexpected %+v", e)
		}
		if !e.synced {
			t.Errorf("commit of %d writes was not fdatasynced", e.acks)
		}
		if e.acks < 1 {
			t.Errorf("a commit answered %d writes", e.acks)
		}
		commits++
		covered += e.acks
	}
	if acked != writers-writers/10 || covered != acked {
		t.Errorf("%d writes acknowledged, %d covered by synced commits; want %d", acked, covered, writers-writers/10)
	}
	if commits < 1 || commits > acked {
		t.Errorf("%d commits for %d acknowledged writes", commits, acked)
	}
	t.Logf("%d concurrent writes acknowledged through %d fdatasynced commits", acked, commits)

	// A blob: file fsync, then directory fsync, before PutBlobFile returns;
	// then the commit that references it is synced like any other.
	mark = log.len()
	h, err := s.PutBlobFile([]byte("durable bytes"))
	if err != nil {
		t.Fatal(err)
	}
	evs := log.since(mark)
	if len(evs) != 2 ||
		evs[0].kind != "blob-file" || !evs[0].synced || !strings.HasPrefix(evs[0].path, filepath.Join(s.dir, "blobs", "tmp")+string(filepath.Separator)) ||
		evs[1].kind != "blob-dir" || !evs[1].synced || evs[1].path != filepath.Dir(s.BlobPath(h)) {
		t.Fatalf("PutBlobFile returned after %+v, want the temp file then %s synced", evs, filepath.Dir(s.BlobPath(h)))
	}
	mark = log.len()
	if err := s.Write(func(tx *Tx) error { return tx.AddBlobRef(h) }); err != nil {
		t.Fatal(err)
	}
	if evs := log.since(mark); len(evs) != 1 || evs[0].kind != "commit" || !evs[0].synced {
		t.Fatalf("blob reference acknowledged after %+v", evs)
	}
}

// TestFsyncProbeSeesNoSync checks the probe itself: with NoSync (benchmarks
// only) it reports unsynced commits and no blob fsyncs, so the test above
// would fail if NoSync were ever on in serving.
func TestFsyncProbeSeesNoSync(t *testing.T) {
	log := &syncLog{}
	s := openTestStore(t, Options{NoSync: true, onSync: log.add})
	if err := s.Write(func(tx *Tx) error { _, err := tx.AppendEvent("c", EvWidgetUpdated, nil); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBlobFile([]byte("not durable")); err != nil {
		t.Fatal(err)
	}
	evs := log.since(0)
	if len(evs) != 1 || evs[0].kind != "commit" || evs[0].synced {
		t.Fatalf("with NoSync the probe saw %+v, want one unsynced commit and no blob fsync", evs)
	}
}
