// Package s3blobs keeps the store's blobs in an S3-compatible bucket through
// gocloud.dev/blob/s3blob (AWS SDK v2). It implements store.BlobStore: bytes
// only, under their sha256 hex as the key (after an optional prefix); the
// store keeps the reference counts.
//
// An S3 PUT is durable when it returns 200, which is what the store needs
// before it commits a reference. The store stats a blob inside its write
// transaction (Tx.AddBlobRef); to keep network round trips out of the
// single writer, the sizes of blobs this process put or saw are remembered
// (they are immutable), and a blob this process deletes is forgotten.
//
// Credentials and region come from the URL and the standard AWS environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, profiles). The
// bucket (or prefix) must belong to one store: the store deletes the blobs
// it does not reference when it opens.
package s3blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/canvasd/canvasd/store"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// Blobs is a store.BlobStore over one S3 bucket.
type Blobs struct {
	b *blob.Bucket

	mu    sync.Mutex
	sizes map[string]int64 // blobs known to exist, by hash
}

var _ store.BlobStore = (*Blobs)(nil)

// Open opens the bucket named by an s3:// URL, e.g.
//
//	s3://bucket?region=eu-west-1&prefix=canvasd/
//	s3://bucket?endpoint=http://127.0.0.1:9000&use_path_style=true
//
// with gocloud's s3blob query parameters (region, endpoint, profile,
// use_path_style, disable_https, anonymous, ssetype, kmskeyid, ...) and
// prefix. It checks that the bucket is reachable.
func Open(ctx context.Context, rawURL string) (*Blobs, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != s3blob.Scheme || u.Host == "" {
		return nil, fmt.Errorf("s3blobs: want s3://bucket?..., got %q", rawURL)
	}
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	b, err := (&s3blob.URLOpener{}).OpenBucketURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("s3blobs: open %s: %w", u.Host, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix)
	}
	if ok, err := b.IsAccessible(ctx); err != nil || !ok {
		b.Close()
		if err == nil {
			err = errors.New("bucket does not exist")
		}
		return nil, fmt.Errorf("s3blobs: bucket %s: %w", u.Host, err)
	}
	return &Blobs{b: b, sizes: map[string]int64{}}, nil
}

// Close closes the bucket.
func (s *Blobs) Close() error { return s.b.Close() }

func (s *Blobs) known(hash string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.sizes[hash]
	return n, ok
}

func (s *Blobs) remember(hash string, size int64) {
	s.mu.Lock()
	s.sizes[hash] = size
	s.mu.Unlock()
}

// notExist maps gocloud's NotFound to fs.ErrNotExist, as the store expects.
func notExist(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// Put uploads data under hash unless it is known to be there.
func (s *Blobs) Put(ctx context.Context, hash string, data []byte) error {
	if _, ok := s.known(hash); ok {
		return nil
	}
	if err := s.b.WriteAll(ctx, hash, data, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("s3blobs: put %s: %w", hash, err)
	}
	s.remember(hash, int64(len(data)))
	return nil
}

// Stat returns the blob's size: from memory when this process put or saw
// it, else with a HEAD request.
func (s *Blobs) Stat(ctx context.Context, hash string) (int64, error) {
	if n, ok := s.known(hash); ok {
		return n, nil
	}
	a, err := s.b.Attributes(ctx, hash)
	if err != nil {
		return 0, fmt.Errorf("s3blobs: stat %s: %w", hash, notExist(err))
	}
	s.remember(hash, a.Size)
	return a.Size, nil
}

// Open starts reading the blob.
func (s *Blobs) Open(ctx context.Context, hash string) (store.BlobReader, error) {
	r, err := s.b.NewReader(ctx, hash, nil)
	if err != nil {
		return nil, fmt.Errorf("s3blobs: open %s: %w", hash, notExist(err))
	}
	return reader{Reader: r, name: hash}, nil
}

// Delete removes the blob; an absent one is not an error.
func (s *Blobs) Delete(ctx context.Context, hash string) error {
	s.mu.Lock()
	delete(s.sizes, hash)
	s.mu.Unlock()
	if err := s.b.Delete(ctx, hash); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("s3blobs: delete %s: %w", hash, err)
	}
	return nil
}

// List calls fn with every key in the bucket (under the prefix) that looks
// like a blob; anything else is not ours and is left alone.
func (s *Blobs) List(ctx context.Context, fn func(hash string) error) error {
	it := s.b.List(nil)
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("s3blobs: list: %w", err)
		}
		if obj.IsDir || !isHash(obj.Key) {
			continue
		}
		if err := fn(obj.Key); err != nil {
			return err
		}
	}
}

func isHash(k string) bool {
	if len(k) != 64 {
		return false
	}
	return strings.Trim(k, "0123456789abcdef") == ""
}

// reader adapts blob.Reader to store.BlobReader.
type reader struct {
	*blob.Reader
	name string
}

func (r reader) Stat() (fs.FileInfo, error) {
	return fileInfo{name: r.name, size: r.Size(), mod: r.ModTime()}, nil
}

type fileInfo struct {
	name string
	size int64
	mod  time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return 0o444 }
func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }
