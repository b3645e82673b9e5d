package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// BlobPath is where the blob with this sha256 hex lives.
func (s *Store) BlobPath(hash string) string {
	if len(hash) < 2 {
		return filepath.Join(s.dir, "blobs", "invalid")
	}
	return filepath.Join(s.dir, "blobs", hash[:2], hash)
}

// PutBlobFile writes data as a content-addressed file (temp file, fsync,
// rename, fsync dir) and returns its sha256 hex. It does not reference the
// blob: the metadata transaction must call Tx.AddBlobRef.
func (s *Store) PutBlobFile(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	final := s.BlobPath(hash)
	if _, err := os.Stat(final); err == nil {
		return hash, nil
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), "blob-*")
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil && !s.opts.NoSync {
		werr = s.fsync(f, "blob-file")
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("put blob: %w", werr)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("put blob: %w", err)
	}
	if !s.opts.NoSync {
		if d, err := os.Open(dir); err == nil {
			s.fsync(d, "blob-dir")
			d.Close()
		}
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

// OpenBlob opens a blob file for reading.
func (s *Store) OpenBlob(hash string) (*os.File, error) {
	f, err := os.Open(s.BlobPath(hash))
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
	st, err := os.Stat(t.s.BlobPath(hash))
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
	ref.Size = st.Size()
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

// collectOrphans removes blob files no committed metadata references, temp
// files left by a crash, and zero-count entries.
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
	root := filepath.Join(s.dir, "blobs")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) || !refs[d.Name()] {
			os.Remove(path)
		}
		return nil
	})
}
