package store

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// openTestStore opens a store in a fresh temp dir, closed at cleanup.
func openTestStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	return openTestStoreAt(tb, tb.TempDir(), opts)
}

func openTestStoreAt(tb testing.TB, dir string, opts Options) *Store {
	tb.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// mustWrite runs fn in a Write and fails the test on error.
func mustWrite(tb testing.TB, s *Store, fn func(*Tx) error) {
	tb.Helper()
	if err := s.Write(fn); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// blobFiles lists the files under dir/blobs, relative, sorted.
func blobFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	root := filepath.Join(dir, "blobs")
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(out)
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// newCanvasWithImage stores a canvas and an image widget referencing data.
func newCanvasWithImage(tb testing.TB, s *Store, data []byte) (*Canvas, *Widget) {
	tb.Helper()
	h, err := s.PutBlobFile(data)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Canvas{Name: "c", OwnerID: FirstUserID}
	w := &Widget{ID: "img-" + h[:8], Type: "Image", Blob: h, Props: map[string]any{"title": "t"}}
	mustWrite(tb, s, func(tx *Tx) error {
		cc := *c
		if err := tx.CreateCanvas(&cc); err != nil {
			return err
		}
		*c = cc
		w.CanvasID = c.ID
		if err := tx.AddBlobRef(h); err != nil {
			return err
		}
		return tx.CreateWidget(w)
	})
	return c, w
}

func TestGroupCommitManyWritersOneFailure(t *testing.T) {
	s := openTestStore(t, Options{})
	var mu sync.Mutex
	var commits [][]Event
	s.SetOnCommit(func(evs []Event) {
		mu.Lock()
		commits = append(commits, append([]Event(nil), evs...))
		mu.Unlock()
	})
	const writers = 300
	boom := errors.New("boom")
	errs := make([]error, writers)
	ids := make([]uint64, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Write(func(tx *Tx) error {
				u := &User{Email: fmt.Sprintf("u%d@example.com", i), Name: "u"}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				if _, err := tx.AppendEvent("log", EvWidgetUpdated, map[string]any{"writer": i}); err != nil {
					return err
				}
				if i%7 == 3 {
					return fmt.Errorf("writer %d: %w", i, boom) // after changing things: all of it must vanish
				}
				ids[i] = u.ID
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()

	okCount := 0
	seenID := map[uint64]bool{}
	for i, err := range errs {
		if i%7 == 3 {
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), fmt.Sprintf("writer %d:", i)) {
				t.Fatalf("writer %d: got %v, want its own error", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("writer %d poisoned by a failing neighbour: %v", i, err)
		}
		if seenID[ids[i]] {
			t.Fatalf("user id %d given twice", ids[i])
		}
		seenID[ids[i]] = true
		okCount++
	}
	s.View(func(tx *Tx) error {
		for i := 0; i < writers; i++ {
			_, err := tx.UserByEmail(fmt.Sprintf("u%d@example.com", i))
			if (i%7 == 3) != errors.Is(err, ErrNotFound) {
				t.Fatalf("writer %d: user lookup %v", i, err)
			}
		}
		return nil
	})
	// The log holds exactly the successful writers' events, gapless.
	evs, err := s.EventsSince("log", 0)
	if err != nil || len(evs) != okCount || s.HeadSeq("log") != uint64(okCount) {
		t.Fatalf("%d events (head %d), want %d: %v", len(evs), s.HeadSeq("log"), okCount, err)
	}
	seen := map[int]bool{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
		var env struct{ Writer int }
		json.Unmarshal(ev.Data, &env)
		if env.Writer%7 == 3 || seen[env.Writer] {
			t.Fatalf("event of writer %d (failed or duplicate)", env.Writer)
		}
		seen[env.Writer] = true
	}
	// The hook saw every event once, in seq order, and fewer commits than
	// writes: requests were grouped.
	var hooked []uint64
	for _, c := range commits {
		for _, e := range c {
			hooked = append(hooked, e.Seq)
		}
	}
	if len(hooked) != okCount {
		t.Fatalf("hook saw %d events, want %d", len(hooked), okCount)
	}
	for i, seq := range hooked {
		if seq != uint64(i+1) {
			t.Fatalf("hook order: position %d has seq %d", i, seq)
		}
	}
	if len(commits) >= okCount {
		t.Fatalf("%d commits for %d writes: no group commit", len(commits), okCount)
	}
	t.Logf("%d writes in %d commits", okCount, len(commits))
}

func TestFailedWriteLeavesNoEvent(t *testing.T) {
	s := openTestStore(t, Options{})
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.AppendEvent("c", EvCanvasUpdated, nil); return err })
	err := s.Write(func(tx *Tx) error {
		if _, err := tx.AppendEvent("c", EvCanvasUpdated, nil); err != nil {
			return err
		}
		return Invalidf("nope")
	})
	var inv *InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err %v", err)
	}
	if h := s.HeadSeq("c"); h != 1 {
		t.Fatalf("head %d after a failed write, want 1", h)
	}
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.AppendEvent("c", EvCanvasUpdated, nil); return err })
	if evs, _ := s.EventsSince("c", 0); len(evs) != 2 || evs[1].Seq != 2 {
		t.Fatalf("events %v", evs)
	}
}

func TestEventsSinceAndRetention(t *testing.T) {
	s := openTestStore(t, Options{EventRetention: 5})
	if evs, err := s.EventsSince("c", 0); err != nil || len(evs) != 0 {
		t.Fatalf("empty log: %v %v", evs, err)
	}
	if _, err := s.EventsSince("c", 1); !errors.Is(err, ErrTooOld) {
		t.Fatalf("since 1 on an empty log: %v", err)
	}
	for i := 1; i <= 12; i++ {
		mustWrite(t, s, func(tx *Tx) error {
			ev, err := tx.AppendEvent("c", EvWidgetUpdated, map[string]any{"i": i})
			if err == nil && ev.Seq != uint64(i) {
				err = fmt.Errorf("append %d got seq %d", i, ev.Seq)
			}
			return err
		})
	}
	if h := s.HeadSeq("c"); h != 12 {
		t.Fatalf("head %d", h)
	}
	for _, since := range []uint64{0, 3, 6, 13, 100} {
		if _, err := s.EventsSince("c", since); !errors.Is(err, ErrTooOld) {
			t.Fatalf("since %d: %v, want ErrTooOld", since, err)
		}
	}
	evs, err := s.EventsSince("c", 7)
	if err != nil || len(evs) != 5 {
		t.Fatalf("since 7: %d events, %v", len(evs), err)
	}
	for i, ev := range evs {
		var env map[string]any
		if err := json.Unmarshal(ev.Data, &env); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != uint64(8+i) || env["seq"].(float64) != float64(8+i) || env["i"].(float64) != float64(8+i) ||
			env["canvas_id"] != "c" || env["type"] != EvWidgetUpdated || ev.CanvasID != "c" {
			t.Fatalf("event %d: seq %d %s", i, ev.Seq, ev.Data)
		}
	}
	if evs, err := s.EventsSince("c", 10); err != nil || len(evs) != 2 || evs[0].Seq != 11 {
		t.Fatalf("since 10: %v %v", evs, err)
	}
	if evs, err := s.EventsSince("c", 12); err != nil || len(evs) != 0 {
		t.Fatalf("since head: %v %v", evs, err)
	}
	s.View(func(tx *Tx) error {
		if n := tx.LogSize(); n != 5 {
			t.Fatalf("log keeps %d events, want 5", n)
		}
		return nil
	})
	// Another canvas has its own sequence.
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.AppendEvent("d", EvWidgetUpdated, nil); return err })
	if s.HeadSeq("d") != 1 || s.HeadSeq("c") != 12 {
		t.Fatalf("heads d=%d c=%d", s.HeadSeq("d"), s.HeadSeq("c"))
	}
}

func TestBlobRefcountsAndRelease(t *testing.T) {
	s := openTestStore(t, Options{})
	data := []byte("blob bytes")
	h, err := s.PutBlobFile(data)
	if err != nil || h != sha(data) {
		t.Fatalf("put: %s %v", h, err)
	}
	if h2, _ := s.PutBlobFile(data); h2 != h {
		t.Fatal("same bytes, other hash")
	}
	want := []string{h[:2] + "/" + h}
	mustWrite(t, s, func(tx *Tx) error {
		if err := tx.AddBlobRef(h); err != nil {
			return err
		}
		return tx.AddBlobRef(h)
	})
	mustWrite(t, s, func(tx *Tx) error { return tx.ReleaseBlob(h) })
	if got := blobFiles(t, s.Dir()); !equal(got, want) {
		t.Fatalf("after one release: %v", got)
	}
	if b, err := s.ReadBlob(h); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("read: %q %v", b, err)
	}
	mustWrite(t, s, func(tx *Tx) error { return tx.ReleaseBlob(h) })
	if got := blobFiles(t, s.Dir()); len(got) != 0 {
		t.Fatalf("after last release: %v", got)
	}
	s.View(func(tx *Tx) error {
		if n := tx.BlobRefs(h); n != 0 {
			t.Fatalf("refs %d", n)
		}
		return nil
	})
	// Referencing a file that is gone fails with ErrBlobGone and commits nothing.
	if err := s.Write(func(tx *Tx) error { return tx.AddBlobRef(h) }); !errors.Is(err, ErrBlobGone) {
		t.Fatalf("add ref to a missing file: %v", err)
	}
}

func TestOrphansCollectedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := []byte("referenced")
	_, w := newCanvasWithImage(t, s, kept)
	orphan, err := s.PutBlobFile([]byte("written but never committed"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash leaves strays: a file in a blob dir and a temp file.
	stray := filepath.Join(dir, "blobs", "ab", "ab"+strings.Repeat("0", 62))
	tmp := filepath.Join(dir, "blobs", "tmp", "blob-123456")
	for _, p := range []string{stray, tmp} {
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte("stray"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := blobFiles(t, dir)
	if len(before) != 4 {
		t.Fatalf("setup: blob files %v", before)
	}

	s = openTestStoreAt(t, dir, Options{})
	got := blobFiles(t, dir)
	want := []string{w.Blob[:2] + "/" + w.Blob}
	if !equal(got, want) {
		t.Fatalf("after open: %v, want %v (orphan %s)", got, want, orphan)
	}
	if b, err := s.ReadBlob(w.Blob); err != nil || !bytes.Equal(b, kept) {
		t.Fatalf("kept blob: %q %v", b, err)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	src := openTestStore(t, Options{})
	var plain string
	var uid uint64
	mustWrite(t, src, func(tx *Tx) error {
		u := &User{Email: "a@example.com", Name: "A"}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		uid = u.ID
		var err error
		plain, _, err = tx.CreateToken(u.ID, "d", "", 0)
		return err
	})
	data := bytes.Repeat([]byte("image-bytes "), 1000)
	c, w := newCanvasWithImage(t, src, data)
	mustWrite(t, src, func(tx *Tx) error {
		ww, err := tx.Widget(c.ID, w.ID)
		if err != nil {
			return err
		}
		ww.Props["title"] = "changed"
		return tx.UpdateWidget(ww, EvWidgetUpdated, nil)
	})
	var buf bytes.Buffer
	if err := src.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	// Only the db and the referenced blob are in the archive.
	var names []string
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if want := []string{"canvasd.db", "blobs/" + w.Blob[:2] + "/" + w.Blob}; !equal(names, want) {
		t.Fatalf("archive entries %v, want %v", names, want)
	}

	dst := t.TempDir()
	if err := Restore(bytes.NewReader(buf.Bytes()), dst); err != nil {
		t.Fatal(err)
	}
	if err := Restore(bytes.NewReader(buf.Bytes()), dst); err == nil {
		t.Fatal("restore over an existing store succeeded")
	}
	r := openTestStoreAt(t, dst, Options{})
	if r.ServerID() != src.ServerID() || r.RootFolder() != src.RootFolder() {
		t.Fatal("server id or root folder differ")
	}
	r.View(func(tx *Tx) error {
		tk, err := tx.TokenByPlain(plain)
		if err != nil || tk.UserID != uid {
			t.Fatalf("token after restore: %v", err)
		}
		u, err := tx.UserByEmail("a@example.com")
		if err != nil || u.ID != uid {
			t.Fatalf("user after restore: %v", err)
		}
		cv, err := tx.Canvas(c.ID)
		if err != nil || cv.Name != "c" || cv.RootWidget != c.RootWidget {
			t.Fatalf("canvas after restore: %v %v", cv, err)
		}
		ws, err := tx.Widgets(c.ID)
		if err != nil || len(ws) != 2 || ws[1].Props["title"] != "changed" || ws[1].Blob != w.Blob {
			t.Fatalf("widgets after restore: %v", err)
		}
		if n := tx.BlobRefs(w.Blob); n != 1 {
			t.Fatalf("refs after restore %d", n)
		}
		return nil
	})
	if b, err := r.ReadBlob(w.Blob); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("blob after restore: %v", err)
	}
	if h := r.HeadSeq(c.ID); h != src.HeadSeq(c.ID) || h != 3 {
		t.Fatalf("head after restore %d, source %d", h, src.HeadSeq(c.ID))
	}
	// The restored store is writable and continues the log.
	mustWrite(t, r, func(tx *Tx) error { _, err := tx.AppendEvent(c.ID, EvCanvasUpdated, nil); return err })
	if h := r.HeadSeq(c.ID); h != 4 {
		t.Fatalf("head after a write %d", h)
	}
}

func TestRestoreRefusesBadArchives(t *testing.T) {
	mk := func(name string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: 1})
		tw.Write([]byte("x"))
		tw.Close()
		return buf.Bytes()
	}
	for _, name := range []string{"../escape", "blobs/../../x", "/etc/passwd", "other.txt", "blobs/ab/cd/ef"} {
		dir := t.TempDir()
		if err := Restore(bytes.NewReader(mk(name)), dir); err == nil {
			t.Fatalf("restore accepted entry %q", name)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
			t.Fatalf("%q escaped the target dir", name)
		}
	}
	if err := Restore(bytes.NewReader(mk("blobs/ab/abc")), t.TempDir()); err == nil {
		t.Fatal("restore accepted an archive without canvasd.db")
	}
}

func TestWriteAfterCloseAndCloseDrains(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(func(tx *Tx) error { _, err := tx.AppendEvent("c", EvWidgetUpdated, nil); return err })
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if err := s.Write(func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestTokensStoredHashedAndExpire(t *testing.T) {
	s := openTestStore(t, Options{})
	var plain string
	mustWrite(t, s, func(tx *Tx) error {
		u := &User{Email: "t@example.com", Name: "T"}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		var err error
		plain, _, err = tx.CreateToken(u.ID, "login", "", 1) // 1 ns: expired at once
		return err
	})
	s.View(func(tx *Tx) error {
		if _, err := tx.TokenByPlain(plain); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired token: %v", err)
		}
		return nil
	})
	db, err := os.ReadFile(filepath.Join(s.Dir(), "canvasd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(plain)) || !bytes.Contains(db, []byte(HashToken(plain))) {
		t.Fatal("token not stored as its hash only")
	}
	// A fixed bootstrap token is refused twice.
	err = s.Write(func(tx *Tx) error {
		if _, _, err := tx.CreateToken(FirstUserID, "a", "fixed-token", 0); err != nil {
			return err
		}
		_, _, err := tx.CreateToken(FirstUserID, "b", "fixed-token", 0)
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate token: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPanickingWriteFailsAloneAndWriterSurvives(t *testing.T) {
	s := openTestStore(t, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(func(tx *Tx) error {
				if _, err := tx.AppendEvent("c", EvWidgetUpdated, nil); err != nil {
					return err
				}
				if i == 7 {
					panic("a bug in a caller's fn")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if h := s.HeadSeq("c"); h != 19 {
		t.Fatalf("head %d, want 19 (the panicking write left nothing)", h)
	}
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.AppendEvent("c", EvWidgetUpdated, nil); return err })
}

// BenchmarkStoreWrite64 is the store alone: 64 goroutines each committing a
// widget update and its event through the group-commit writer, fsync on.
// Compare with server's BenchmarkImagePatch64 (the same write behind HTTP)
// and BenchmarkBoltBatchPlain.
func BenchmarkStoreWrite64(b *testing.B) {
	s := openTestStore(b, Options{})
	c := &Canvas{Name: "bench"}
	mustWrite(b, s, func(tx *Tx) error { cc := *c; err := tx.CreateCanvas(&cc); *c = cc; return err })
	const writers = 64
	for i := 0; i < writers; i++ {
		mustWrite(b, s, func(tx *Tx) error {
			return tx.CreateWidget(&Widget{ID: fmt.Sprint("w", i), CanvasID: c.ID, Type: "Note", Props: map[string]any{"text": "x", "location": map[string]any{"x": 1.0, "y": 2.0}}})
		})
	}
	var next sync.WaitGroup
	var n, commits int64
	var mu sync.Mutex
	s.SetOnCommit(func([]Event) { mu.Lock(); commits++; mu.Unlock() })
	b.ResetTimer()
	for i := 0; i < writers; i++ {
		next.Add(1)
		go func() {
			defer next.Done()
			for {
				mu.Lock()
				n++
				mine := n
				mu.Unlock()
				if mine > int64(b.N) {
					return
				}
				err := s.Write(func(tx *Tx) error {
					w, err := tx.Widget(c.ID, fmt.Sprint("w", i))
					if err != nil {
						return err
					}
					w.Props["location"] = map[string]any{"x": float64(mine), "y": 2.0}
					return tx.UpdateWidget(w, EvWidgetUpdated, nil)
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	next.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	mu.Lock()
	b.ReportMetric(float64(b.N)/float64(max(commits, 1)), "writes/commit")
	mu.Unlock()
}
