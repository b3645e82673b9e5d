package s3blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canvasd/canvasd/internal/testsvc"
	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/store/s3blobs"
)

const bucket = "canvasd-test"

func openBlobs(t *testing.T, url string) *s3blobs.Blobs {
	t.Helper()
	b, err := s3blobs.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openStore(t *testing.T, dir string, b store.BlobStore) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{Blobs: b})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// inBucket reports whether the fake holds key, looking behind the driver.
func inBucket(t *testing.T, fake *testsvc.S3, key string) bool {
	t.Helper()
	_, err := fake.Backend.HeadObject(bucket, key)
	return err == nil
}

// TestClusterS3BlobsKeepStoreSemantics runs the store's blob life cycle
// against the real S3 driver (gocloud s3blob, AWS SDK v2) talking HTTP to
// an S3 fake: upload, reference, read and range-read, release to zero
// (the object is deleted after the commit), orphan collection at open
// (an unreferenced upload is deleted, a referenced one and a key that is
// not a blob stay), ErrBlobGone for a blob the bucket lacks, and a backup
// that carries the S3 blobs into a local store.
func TestClusterS3BlobsKeepStoreSemantics(t *testing.T) {
	fake := testsvc.StartS3(t, bucket)
	url := fake.URL(bucket, "node1/")
	dir := t.TempDir()
	st := openStore(t, dir, openBlobs(t, url))

	data := randomBytes(1, 300<<10)
	hash, err := st.PutBlobFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash %s is not the sha256", hash)
	}
	if !inBucket(t, fake, "node1/"+hash) {
		t.Fatal("PutBlobFile did not upload under the prefix")
	}
	if _, err := os.Stat(st.BlobPath(hash)); err == nil {
		t.Fatal("an S3 blob was also written to local disk")
	}
	if err := st.Write(func(tx *store.Tx) error { return tx.AddBlobRef(hash) }); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReadBlob(hash)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadBlob: %d bytes, %v", len(got), err)
	}
	f, err := st.OpenBlob(hash)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("Stat: %v, %v", fi, err)
	}
	if _, err := f.Seek(200<<10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1000)
	if _, err := io.ReadFull(f, part); err != nil || !bytes.Equal(part, data[200<<10:200<<10+1000]) {
		t.Fatalf("read after Seek: %v", err)
	}
	f.Close()
	var stats struct {
		n     int
		bytes int64
	}
	st.View(func(tx *store.Tx) error { stats.n, stats.bytes = tx.BlobStats(); return nil })
	if stats.n != 1 || stats.bytes != int64(len(data)) {
		t.Fatalf("BlobStats = %d blobs, %d bytes", stats.n, stats.bytes)
	}

	// An upload whose commit never came, and a foreign key, then a restart.
	orphan, err := st.PutBlobFile(randomBytes(2, 1000))
	if err != nil {
		t.Fatal(err)
	}
	foreign := openBlobs(t, fake.URL(bucket, ""))
	if err := foreign.Put(context.Background(), "node1/README", []byte("not a blob")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = openStore(t, dir, openBlobs(t, url))
	defer func() { st.Close() }()
	if inBucket(t, fake, "node1/"+orphan) {
		t.Fatal("the unreferenced upload survived Open")
	}
	if !inBucket(t, fake, "node1/"+hash) || !inBucket(t, fake, "node1/README") {
		t.Fatal("Open deleted a referenced blob or a key that is not a blob")
	}

	// A blob the bucket does not hold cannot be referenced.
	missing := strings.Repeat("ab", 32)
	err = st.Write(func(tx *store.Tx) error { return tx.AddBlobRef(missing) })
	if !errors.Is(err, store.ErrBlobGone) {
		t.Fatalf("AddBlobRef of a missing blob: %v, want ErrBlobGone", err)
	}

	// Backup reads the blobs from S3; the archive restores as a local store.
	var archive bytes.Buffer
	if err := st.Backup(&archive); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(&archive, local); err != nil {
		t.Fatal(err)
	}
	lst, err := store.Open(local, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := lst.ReadBlob(hash); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored blob: %d bytes, %v", len(got), err)
	}
	lst.Close()

	// Releasing the last reference deletes the object after the commit.
	if err := st.Write(func(tx *store.Tx) error { return tx.ReleaseBlob(hash) }); err != nil {
		t.Fatal(err)
	}
	if inBucket(t, fake, "node1/"+hash) {
		t.Fatal("the object outlived its last reference")
	}
	if _, err := st.ReadBlob(hash); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadBlob after release: %v, want not-exist", err)
	}
}

// TestClusterS3OpenRefusesMissingBucket: a typo in --blobs fails at start,
// not at the first upload.
func TestClusterS3OpenRefusesMissingBucket(t *testing.T) {
	fake := testsvc.StartS3(t, bucket)
	if _, err := s3blobs.Open(context.Background(), fake.URL("no-such-bucket", "")); err == nil {
		t.Fatal("Open of a missing bucket succeeded")
	}
	if _, err := s3blobs.Open(context.Background(), "file:///tmp/x"); err == nil {
		t.Fatal("Open of a file URL succeeded")
	}
}
