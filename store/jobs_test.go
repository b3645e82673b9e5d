package store

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

func putBlob(tb testing.TB, s *Store, data string) string {
	tb.Helper()
	h, err := s.PutBlobFile([]byte(data))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func refs(tb testing.TB, s *Store, h string) int64 {
	tb.Helper()
	var n int64
	s.View(func(tx *Tx) error { n = tx.BlobRefs(h); return nil })
	return n
}

func TestJobLifecycleRefsAndExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	s := openTestStoreAt(t, dir, Options{})
	img, mask := putBlob(t, s, "image-bytes"), putBlob(t, s, "mask-bytes")
	j := &Job{ID: "j1", OwnerID: FirstUserID, Kind: "banner", Labels: []string{"a", "b"},
		Inputs: []JobInput{{Image: img, Mask: mask}}, Params: []byte(`{"x":1}`)}
	mustWrite(t, s, func(tx *Tx) error { jj := *j; return tx.CreateJob(&jj) })
	if refs(t, s, img) != 1 || refs(t, s, mask) != 1 {
		t.Fatalf("input refs %d %d, want 1 1", refs(t, s, img), refs(t, s, mask))
	}
	if err := s.Write(func(tx *Tx) error { jj := *j; return tx.CreateJob(&jj) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}

	// A started job left processing (a crash) is listed as unfinished and
	// can be started again; the attempt count grows.
	for want := 1; want <= 2; want++ {
		var got *Job
		mustWrite(t, s, func(tx *Tx) error { var err error; got, err = tx.StartJob("j1"); return err })
		if got.Status != JobProcessing || got.Attempts != want {
			t.Fatalf("start %d: %+v", want, got)
		}
	}
	var open []string
	s.View(func(tx *Tx) error { var err error; open, err = tx.UnfinishedJobs(); return err })
	if len(open) != 1 || open[0] != "j1" {
		t.Fatalf("unfinished %v", open)
	}

	out := putBlob(t, s, "output-bytes")
	outs := []JobOutput{{Input: 0, Width: 10, Height: 5, Blob: out, Format: "png", Crop: [4]float64{0.1, 0.2, 0.5, 0.5}}}
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.CompleteJob("j1", outs); return err })
	if err := s.Write(func(tx *Tx) error { _, err := tx.CompleteJob("j1", outs); return err }); !errors.Is(err, ErrConflict) {
		t.Fatalf("second completion: %v, want ErrConflict", err)
	}
	if err := s.Write(func(tx *Tx) error { _, err := tx.StartJob("j1"); return err }); !errors.Is(err, ErrConflict) {
		t.Fatalf("start after completion: %v, want ErrConflict", err)
	}
	if err := s.Write(func(tx *Tx) error { _, err := tx.FailJob("j1", "late"); return err }); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail after completion: %v, want ErrConflict", err)
	}
	var got *Job
	s.View(func(tx *Tx) error { var err error; got, err = tx.Job("j1"); return err })
	if got.Status != JobCompleted || got.Completions != 1 || len(got.Outputs) != 1 || got.Outputs[0].Crop[2] != 0.5 {
		t.Fatalf("completed job %+v", got)
	}
	if refs(t, s, out) != 1 || refs(t, s, img) != 0 || refs(t, s, mask) != 0 {
		t.Fatalf("refs out=%d img=%d mask=%d, want 1 0 0", refs(t, s, out), refs(t, s, img), refs(t, s, mask))
	}
	if _, err := os.Stat(s.BlobPath(img)); !os.IsNotExist(err) {
		t.Fatalf("released input file still there: %v", err)
	}
	s.View(func(tx *Tx) error {
		if !tx.OutputOwned(out, FirstUserID) || tx.OutputOwned(out, FirstUserID+1) || !tx.OutputOwned(out, 0) || tx.OutputOwned(img, 0) {
			t.Error("output index wrong")
		}
		open, _ = tx.UnfinishedJobs()
		return nil
	})
	if len(open) != 0 {
		t.Fatalf("unfinished after completion: %v", open)
	}

	// Reopen: everything is durable.
	s.Close()
	s2 := openTestStoreAt(t, dir, Options{})
	s2.View(func(tx *Tx) error { got, _ = tx.Job("j1"); return nil })
	if got == nil || got.Completions != 1 || got.Status != JobCompleted {
		t.Fatalf("after reopen %+v", got)
	}
	if _, err := os.Stat(s2.BlobPath(out)); err != nil {
		t.Fatalf("output file gone after reopen: %v", err)
	}
}

func TestJobFailReleasesInputs(t *testing.T) {
	s := openTestStore(t, Options{})
	img := putBlob(t, s, "shared-image")
	for _, id := range []string{"a", "b"} {
		mustWrite(t, s, func(tx *Tx) error {
			return tx.CreateJob(&Job{ID: id, OwnerID: FirstUserID, Inputs: []JobInput{{Image: img}}})
		})
	}
	if refs(t, s, img) != 2 {
		t.Fatalf("refs %d, want 2", refs(t, s, img))
	}
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.FailJob("a", "bad mask"); return err })
	if refs(t, s, img) != 1 {
		t.Fatalf("refs after one failure %d, want 1", refs(t, s, img))
	}
	var a *Job
	s.View(func(tx *Tx) error { a, _ = tx.Job("a"); return nil })
	if a.Status != JobFailed || a.Error != "bad mask" {
		t.Fatalf("failed job %+v", a)
	}
}

func TestJobPageFiltersAndPages(t *testing.T) {
	s := openTestStore(t, Options{})
	// Created one after another so that creation order is known.
	for i := range 25 {
		owner := FirstUserID
		if i%5 == 4 {
			owner = FirstUserID + 1
		}
		labels := []string{"all"}
		if i%2 == 0 {
			labels = append(labels, "even")
		}
		mustWrite(t, s, func(tx *Tx) error {
			return tx.CreateJob(&Job{ID: fmt.Sprintf("job-%02d", i), OwnerID: owner, Labels: labels})
		})
	}
	page := func(f JobFilter, start, limit int) ([]string, int) {
		var ids []string
		var total int
		s.View(func(tx *Tx) error {
			js, n, err := tx.JobPage(f, start, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				ids = append(ids, j.ID)
			}
			total = n
			return nil
		})
		return ids, total
	}
	ids, total := page(JobFilter{}, 0, 100)
	if total != 25 || len(ids) != 25 || ids[0] != "job-00" || ids[24] != "job-24" {
		t.Fatalf("all: %d %v", total, ids)
	}
	ids, total = page(JobFilter{OwnerID: FirstUserID, Labels: []string{"even"}}, 2, 3)
	// Owner 1000's even jobs: 0 2 6 8 10 12 16 18 20 22 (4, 14, 24 belong to 1001).
	if total != 10 || !equal(ids, []string{"job-06", "job-08", "job-10"}) {
		t.Fatalf("filtered page: %d %v", total, ids)
	}
	ids, total = page(JobFilter{Labels: []string{"nope", "even"}}, 12, 5)
	if total != 13 || !equal(ids, []string{"job-24"}) {
		t.Fatalf("last page: %d %v", total, ids)
	}
	ids, _ = page(JobFilter{Labels: []string{"nope"}}, 0, 5)
	if len(ids) != 0 {
		t.Fatalf("unknown label matched %v", ids)
	}
}

func TestAddOutputRefsOncePerOwner(t *testing.T) {
	s := openTestStore(t, Options{})
	h := putBlob(t, s, "sync-output")
	for range 2 {
		mustWrite(t, s, func(tx *Tx) error { return tx.AddOutput(h, FirstUserID) })
	}
	mustWrite(t, s, func(tx *Tx) error { return tx.AddOutput(h, FirstUserID+1) })
	if refs(t, s, h) != 2 {
		t.Fatalf("refs %d, want 2 (one per owner)", refs(t, s, h))
	}
}
