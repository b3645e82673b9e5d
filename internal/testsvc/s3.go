package testsvc

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an in-memory S3 fake (gofakes3) behind a real HTTP listener, so the
// real AWS SDK driver talks to it over the wire.
type S3 struct {
	// Endpoint is the fake's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Backend is the fake's storage, to look behind the driver's back.
	Backend *s3mem.Backend
}

// StartS3 starts an S3 fake holding the given (empty) buckets; it stops when
// the test ends.
func StartS3(tb testing.TB, buckets ...string) *S3 {
	tb.Helper()
	be := s3mem.New()
	for _, b := range buckets {
		if err := be.CreateBucket(b); err != nil {
			tb.Fatalf("s3 fake: create bucket %s: %v", b, err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(be).Server())
	tb.Cleanup(srv.Close)
	return &S3{Endpoint: srv.URL, Backend: be}
}

// URL returns a --blobs URL for bucket (and an optional key prefix) that
// reaches the fake: path-style addressing and anonymous credentials.
func (s *S3) URL(bucket, prefix string) string {
	u := fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true&anonymous=true", bucket, s.Endpoint)
	if prefix != "" {
		u += "&prefix=" + prefix
	}
	return u
}
