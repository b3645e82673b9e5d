package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BlobStore keeps content-addressed blobs (sha256 hex keys). The store
// references them from metadata and counts the references (Tx.AddBlobRef,
// Tx.ReleaseBlob): a BlobStore only stores bytes. Options.Blobs selects one;
// the default is local files under the data directory (fileBlobs), and
// store/s3blobs keeps them in an S3 bucket.
//
// What the store relies on:
//   - Put is idempotent and durable when it returns: a blob Put before a
//     commit that references it survives any crash after that commit.
//   - Stat and Open fail with an error for which errors.Is(err,
//     fs.ErrNotExist) when the blob is absent.
//   - Delete of an absent blob succeeds.
//   - List enumerates every stored blob, so that Open can remove those no
//     committed metadata references (left by a crash between Put and
//     commit, or between a commit and the removal that followed it). The
//     bucket or directory therefore belongs to one store alone.
type BlobStore interface {
	Put(ctx context.Context, hash string, data []byte) error
	Open(ctx context.Context, hash string) (BlobReader, error)
	Stat(ctx context.Context, hash string) (size int64, err error)
	Delete(ctx context.Context, hash string) error
	List(ctx context.Context, fn func(hash string) error) error
}

// BlobReader reads one blob. *os.File is one.
type BlobReader interface {
	io.ReadSeekCloser
	Stat() (fs.FileInfo, error)
}

// fileBlobs is the local BlobStore: root/<first two hex>/<hash>, written
// through root/tmp with fsyncs of the file and its directory (gocloud's
// fileblob does not fsync, which is why this one is our own).
type fileBlobs struct {
	root   string
	noSync bool
	fsync  func(f *os.File, kind string) error
}

var _ BlobStore = (*fileBlobs)(nil)

func (b *fileBlobs) path(hash string) string {
	if len(hash) < 2 || strings.ContainsAny(hash, `/\.`) {
		return filepath.Join(b.root, "invalid")
	}
	return filepath.Join(b.root, hash[:2], hash)
}

// init creates the directories and clears temp files a crash left.
func (b *fileBlobs) init() error {
	tmp := filepath.Join(b.root, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("blobs: clear %s: %w", tmp, err)
	}
	return os.MkdirAll(tmp, 0o750)
}

func (b *fileBlobs) Put(_ context.Context, hash string, data []byte) error {
	final := b.path(hash)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(b.root, "tmp"), "blob-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil && !b.noSync {
		werr = b.fsync(f, "blob-file")
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	if !b.noSync {
		if d, err := os.Open(dir); err == nil {
			b.fsync(d, "blob-dir")
			d.Close()
		}
	}
	return nil
}

func (b *fileBlobs) Open(_ context.Context, hash string) (BlobReader, error) {
	return os.Open(b.path(hash))
}

func (b *fileBlobs) Stat(_ context.Context, hash string) (int64, error) {
	st, err := os.Stat(b.path(hash))
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (b *fileBlobs) Delete(_ context.Context, hash string) error {
	if err := os.Remove(b.path(hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List walks root, skipping tmp (cleared by init).
func (b *fileBlobs) List(_ context.Context, fn func(hash string) error) error {
	return filepath.WalkDir(b.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != b.root && d.Name() == "tmp" && filepath.Dir(path) == b.root {
				return filepath.SkipDir
			}
			return nil
		}
		if b.path(d.Name()) != path {
			os.Remove(path) // not where a blob lives: nothing can reference it
			return nil
		}
		return fn(d.Name())
	})
}

// NewFileBlobs returns the local BlobStore rooted at dir (for --blobs
// file://DIR); the default is dir/blobs of the data directory. Open creates
// it and clears its temp files.
func NewFileBlobs(dir string) BlobStore {
	return &fileBlobs{root: dir, fsync: func(f *os.File, _ string) error { return f.Sync() }}
}
