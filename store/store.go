package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Options configures Open. Zero values take the documented defaults.
type Options struct {
	// EventRetention is how many events of each canvas the log keeps. Default 10000.
	EventRetention int
	// MaxBatch caps how many writes one commit groups. Default 512.
	MaxBatch int
	// NoSync turns fsync off. Only for benchmarks that compare against it; never in serving.
	NoSync bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logf receives what Open repaired or migrated (one line each). Default: discarded.
	Logf func(format string, args ...any)
	// Blobs keeps the blob bytes. Default: files under dir/blobs, fsynced.
	// The caller owns (and closes) a BlobStore it passes; it must belong to
	// this store alone, because Open deletes the blobs it does not reference.
	Blobs BlobStore

	// onSync, set only by this package's tests, sees every durability step
	// before the write it covers is acknowledged; see syncEvent.
	onSync func(syncEvent)
}

// syncEvent is one durability step, reported to Options.onSync (tests only).
type syncEvent struct {
	kind string // "commit" (a bbolt commit), "blob-file" or "blob-dir" (PutBlobFile's fsyncs)
	// acks is, for a commit, how many Write calls it answers.
	acks int
	// synced: for a commit, that bbolt fdatasynced it (DB.NoSync, which
	// tx.Commit reads, was false); for a blob, that the fsync returned nil.
	synced bool
	path   string // blob-file, blob-dir: what was synced
}

// Store is the durable state of one data directory.
type Store struct {
	db       *bolt.DB
	dir      string
	blobs    BlobStore
	opts     Options
	reqs     chan *writeReq
	quit     chan struct{}
	wg       sync.WaitGroup
	closeMu  sync.RWMutex
	gcMu     sync.RWMutex // held (write) while blob files are removed; Backup holds it (read)
	closed   bool
	onCommit func([]Event)

	// authGen counts commits that changed users, tokens or canvases; see AuthGen.
	authGen atomic.Uint64
	// authWake is closed (and cleared) when authGen moves; see AuthChanged.
	authWakeMu sync.Mutex
	authWake   chan struct{}
	memo       widgetMemo

	serverID   string
	rootFolder string
}

type writeReq struct {
	fn     func(*Tx) error
	author uint64
	err    chan error
}

// Open opens (creating if needed) the store in dir: dir/canvasd.db and dir/blobs.
// It collects orphaned blob files before returning.
func Open(dir string, opts Options) (*Store, error) {
	if opts.EventRetention <= 0 {
		opts.EventRetention = 10000
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "canvasd.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second, NoSync: opts.NoSync})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: db, dir: dir, opts: opts, blobs: opts.Blobs, reqs: make(chan *writeReq, 4096), quit: make(chan struct{})}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	if s.blobs == nil {
		s.blobs = &fileBlobs{root: filepath.Join(dir, "blobs"), noSync: opts.NoSync, fsync: s.fsync}
	}
	if fb, ok := s.blobs.(*fileBlobs); ok {
		fb.noSync = fb.noSync || opts.NoSync
		if err := fb.init(); err != nil { // after bolt.Open: a running server holds the lock
			db.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	if err := s.collectOrphans(); err != nil {
		db.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.writer()
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("init schema: %w", err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); v != nil && string(v) != schemaVersion {
			return fmt.Errorf("init schema: data has schema %q, this build reads %q", v, schemaVersion)
		}
		if meta.Get(metaServerID) == nil {
			if err := meta.Put(metaServerID, []byte(uuid.NewString())); err != nil {
				return err
			}
			if err := meta.Put(metaSchema, []byte(schemaVersion)); err != nil {
				return err
			}
			root := &Folder{ID: uuid.NewString(), Name: ""}
			if err := putJSON(tx.Bucket(bucketFolders), []byte(root.ID), root); err != nil {
				return err
			}
			if err := meta.Put(metaRootFolder, []byte(root.ID)); err != nil {
				return err
			}
			guest := &User{ID: GuestUserID, Name: "Guest", Approved: true, CreatedAt: s.opts.Now().UTC()}
			if err := putJSON(tx.Bucket(bucketUsers), itob(guest.ID), guest); err != nil {
				return err
			}
			if err := meta.Put(metaNextUser, itob(FirstUserID)); err != nil {
				return err
			}
		}
		s.serverID = string(meta.Get(metaServerID))
		s.rootFolder = string(meta.Get(metaRootFolder))
		if err := s.repairEmails(tx); err != nil {
			return fmt.Errorf("repair email index: %w", err)
		}
		if err := s.migrateCredits(tx); err != nil {
			return fmt.Errorf("migrate credits: %w", err)
		}
		return nil
	})
}

// ServerID is this data directory's stable id.
func (s *Store) ServerID() string { return s.serverID }

// RootFolder is the id of the folder every user's home folder lives in.
func (s *Store) RootFolder() string { return s.rootFolder }

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// DB exposes the bbolt handle for stats and online backup.
func (s *Store) DB() *bolt.DB { return s.db }

// SetOnCommit installs the hook that receives each commit's events, in seq
// order, after the commit is durable. Call it before the first write.
func (s *Store) SetOnCommit(fn func([]Event)) { s.onCommit = fn }

// Close stops the writer (waiting for queued writes) and closes bbolt.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	s.closeMu.Unlock()
	s.wg.Wait()
	return s.db.Close()
}

// Write runs fn in a read-write transaction and returns once that transaction
// is committed to disk (or fn's error). fn may run more than once when another
// write in the same group fails, so it must only touch the store through tx
// and (re)assign its results.
func (s *Store) Write(fn func(*Tx) error) error { return s.WriteAs(0, fn) }

// WriteAs is Write on behalf of user author: the canvas events fn appends
// are recorded as that user's (the audit log reads them), and Tx.Author
// reports it. Author 0 is the server itself.
func (s *Store) WriteAs(author uint64, fn func(*Tx) error) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	r := &writeReq{fn: fn, author: author, err: make(chan error, 1)}
	s.reqs <- r
	s.closeMu.RUnlock()
	return <-r.err
}

func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, s.opts.MaxBatch)
	for {
		var first *writeReq
		select {
		case first = <-s.reqs:
		case <-s.quit:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-s.reqs:
					s.runBatch([]*writeReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.runBatch(batch)
	}
}

// runBatch commits the requests together. A request whose fn fails is
// answered with its error and the rest are committed without it.
func (s *Store) runBatch(batch []*writeReq) {
	reqs := append([]*writeReq(nil), batch...)
	for len(reqs) > 0 {
		var (
			failed    = -1
			failedErr error
			events    []Event
			removals  []string
		)
		var bs batchState
		err := s.db.Update(func(btx *bolt.Tx) error {
			events, removals = events[:0], removals[:0]
			bs = batchState{}
			now := s.opts.Now().UTC()
			for i, r := range reqs {
				t := &Tx{btx: btx, s: s, now: now, batch: &bs, author: r.author}
				if err := callWrite(r.fn, t); err != nil {
					failed, failedErr = i, err
					return errRetryBatch
				}
				events = append(events, t.events...)
			}
			if len(bs.touched) == 0 {
				return nil
			}
			blobs := btx.Bucket(bucketBlobs)
			for h := range bs.touched {
				var ref blobRef
				if v := blobs.Get([]byte(h)); v != nil {
					if err := json.Unmarshal(v, &ref); err != nil {
						return err
					}
				}
				if ref.Refs <= 0 {
					if err := blobs.Delete([]byte(h)); err != nil {
						return err
					}
					removals = append(removals, h)
				}
			}
			return nil
		})
		if bs.authChanged && !errors.Is(err, errRetryBatch) {
			// Before any reply (even a failed commit's, to be safe): a
			// caller's 2xx for a revoked token or a changed permission must
			// find every auth cache entry stale.
			s.authGen.Add(1)
			s.authWakeMu.Lock()
			if s.authWake != nil {
				close(s.authWake)
				s.authWake = nil
			}
			s.authWakeMu.Unlock()
		}
		if errors.Is(err, errRetryBatch) {
			reqs[failed].err <- failedErr
			reqs = append(reqs[:failed], reqs[failed+1:]...)
			continue
		}
		if err != nil {
			for _, r := range reqs {
				r.err <- fmt.Errorf("commit: %w", err)
			}
			return
		}
		if s.opts.onSync != nil {
			s.opts.onSync(syncEvent{kind: "commit", acks: len(reqs), synced: !s.db.NoSync})
		}
		if len(removals) > 0 {
			s.gcMu.Lock()
			for _, h := range removals {
				s.blobs.Delete(context.Background(), h) // a crash or failure here leaves an orphan that the next start collects
			}
			s.gcMu.Unlock()
		}
		if s.onCommit != nil && len(events) > 0 {
			s.onCommit(events)
		}
		for _, r := range reqs {
			r.err <- nil
		}
		return
	}
}

// callWrite runs one request's fn. A panic fails that request alone instead
// of killing the writer goroutine, which would take every later write (and
// the process) down with it.
func callWrite(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store write panicked: %v", r)
		}
	}()
	return fn(t)
}

// View runs fn in a read-only transaction. Copy what you need out of it; never
// stream to a client from inside fn.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error {
		return fn(&Tx{btx: btx, s: s, now: s.opts.Now().UTC()})
	})
}

// Tx is a store transaction with the domain operations.
type Tx struct {
	btx    *bolt.Tx
	s      *Store
	now    time.Time
	events []Event
	batch  *batchState // nil in read-only transactions
	author uint64      // WriteAs's author; 0 for Write
}

// Author is the user this write is made for (WriteAs), 0 when none.
func (t *Tx) Author() uint64 { return t.author }

// batchState is shared by the transactions of one group commit.
type batchState struct {
	touched     map[string]bool // blobs whose reference count changed
	authChanged bool            // a user, token or canvas was written
}

func (t *Tx) touchBlob(hash string) {
	if t.batch.touched == nil {
		t.batch.touched = map[string]bool{}
	}
	t.batch.touched[hash] = true
}

// authChanged records that this write changes what an auth cache may hold.
func (t *Tx) authChanged() {
	if t.batch != nil {
		t.batch.authChanged = true
	}
}

// AuthGen is a counter that grows, before the writes are acknowledged, with
// every commit that changed a user, a token or a canvas (its sharing
// settings included). A cache of anything derived from those may keep an
// entry only while AuthGen equals the value read before the entry's data
// was read.
func (s *Store) AuthGen() uint64 { return s.authGen.Load() }

// AuthChanged returns a channel that is closed the next time AuthGen moves,
// so that open streams can re-check their credentials without polling.
func (s *Store) AuthChanged() <-chan struct{} {
	s.authWakeMu.Lock()
	defer s.authWakeMu.Unlock()
	if s.authWake == nil {
		s.authWake = make(chan struct{})
	}
	return s.authWake
}

// Now is the store's clock (Options.Now), in UTC: what a transaction
// started now would see as Tx.Now.
func (s *Store) Now() time.Time { return s.opts.Now().UTC() }

// Now is the transaction's timestamp.
func (t *Tx) Now() time.Time { return t.now }

// Writable reports whether the transaction may write.
func (t *Tx) Writable() bool { return t.btx.Writable() }

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	return json.Unmarshal(data, v)
}

// RandomToken returns n random bytes, hex-encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
