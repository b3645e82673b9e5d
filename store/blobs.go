package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// BlobPath is where the blob with this sha256 hex lives with the local
// blob store (the default); with another Options.Blobs it names no file.
func (s *Store) BlobPath(hash string) string {
	return (&fileBlobs{root: filepath.Join(s.dir, "blobs")}).path(hash)
}

// PutBlobFile stores data as a content-addressed blob and returns its
// sha256 hex: with the local blob store a file (temp file, fsync, rename,
// fsync dir). It does not reference the blob: the metadata transaction must
// call Tx.AddBlobRef.
func (s *Store) PutBlobFile(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if err := s.blobs.Put(context.Background(), hash, data); err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	return hash, nil
}

// fsync syncs f and reports it to Options.onSync (set by tests only).
func (s *Store) fsync(f *os.File, kind string) error {
	err := f.Sync()
	if s.opts.onSync != nil {
		s.opts.onSync(syncEvent{kind: kind, synced: err == nil, path: f.Name()})
	}
	return err
}

// OpenBlob opens a blob for reading.
func (s *Store) OpenBlob(hash string) (BlobReader, error) {
	f, err := s.blobs.Open(context.Background(), hash)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", hash, err)
	}
	return f, nil
}

// ReadBlob reads a whole blob.
func (s *Store) ReadBlob(hash string) ([]byte, error) {
	f, err := s.OpenBlob(hash)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// AddBlobRef references a blob written by PutBlobFile. It fails with
// ErrBlobGone when the file was collected in the meantime; the caller writes
// the file again and retries.
func (t *Tx) AddBlobRef(hash string) error {
	size, err := t.s.blobs.Stat(context.Background(), hash)
	if err != nil {
		return ErrBlobGone
	}
	b := t.btx.Bucket(bucketBlobs)
	var ref blobRef
	if v := b.Get([]byte(hash)); v != nil {
		if err := json.Unmarshal(v, &ref); err != nil {
			return err
		}
	}
	ref.Refs++
	ref.Size = size
	t.touchBlob(hash)
	return putJSON(b, []byte(hash), ref)
}

// ReleaseBlob drops one reference. When the count reaches zero the file is
// removed after the commit.
func (t *Tx) ReleaseBlob(hash string) error {
	if hash == "" {
		return nil
	}
	b := t.btx.Bucket(bucketBlobs)
	var ref blobRef
	if err := getJSON(b, []byte(hash), &ref); err != nil {
		return nil // already gone: nothing to release
	}
	ref.Refs--
	t.touchBlob(hash)
	return putJSON(b, []byte(hash), ref)
}

// BlobRefs returns the reference count of a blob (0 when unknown).
func (t *Tx) BlobRefs(hash string) int64 {
	var ref blobRef
	if getJSON(t.btx.Bucket(bucketBlobs), []byte(hash), &ref) != nil {
		return 0
	}
	return ref.Refs
}

// BlobStats returns the number of referenced blobs and their total bytes.
func (t *Tx) BlobStats() (n int, bytes int64) {
	t.btx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
		var ref blobRef
		if json.Unmarshal(v, &ref) == nil && ref.Refs > 0 {
			n++
			bytes += ref.Size
		}
		return nil
	})
	return n, bytes
}

// ReferencedBlobs lists every blob hash with a positive reference count.
func (t *Tx) ReferencedBlobs() []string {
	var out []string
	t.btx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
		var ref blobRef
		if json.Unmarshal(v, &ref) == nil && ref.Refs > 0 {
			out = append(out, string(k))
		}
		return nil
	})
	return out
}

// collectOrphans removes blobs no committed metadata references and
// zero-count entries (the local blob store cleared its temp files when it
// was opened).
func (s *Store) collectOrphans() error {
	refs := map[string]bool{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		var dead [][]byte
		b.ForEach(func(k, v []byte) error {
			var ref blobRef
			if json.Unmarshal(v, &ref) == nil && ref.Refs > 0 {
				refs[string(k)] = true
			} else {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("collect orphans: %w", err)
	}
	ctx := context.Background()
	var orphans []string
	if err := s.blobs.List(ctx, func(hash string) error {
		if !refs[hash] {
			orphans = append(orphans, hash)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("collect orphans: list blobs: %w", err)
	}
	for _, h := range orphans {
		if err := s.blobs.Delete(ctx, h); err != nil {
			return fmt.Errorf("collect orphans: %w", err)
		}
	}
	return nil
}
