package server

// The foundation's write-path benchmark (issue 2): image PATCH through the
// full HTTP stack on a real port, 64 concurrent clients, fsync on, beside a
// plain bbolt DB.Batch loop with default settings on the same machine.
//
//	go test -run xxx -bench 'ImagePatch|BoltBatch' -benchtime 5s ./server/

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	bolt "go.etcd.io/bbolt"
)

const benchClients = 64

// latencyReport merges per-client latencies and reports throughput and
// percentiles as benchmark metrics.
func latencyReport(b *testing.B, unit string, elapsed time.Duration, per [][]time.Duration) {
	var all []time.Duration
	for _, l := range per {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		i := int(float64(len(all)-1) * p)
		return float64(all[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1.0), "max-ms")
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImagePatch64 measures durable image PATCHes per second: every
// 200 is sent after the bbolt commit holding the change (and its event) is
// fsynced.
func BenchmarkImagePatch64(b *testing.B) { benchImagePatch(b, false) }

// BenchmarkImagePatch64NoSync is the same with fsync off: NOT durable, only
// there to show how much of the PATCH rate the disk costs.
func BenchmarkImagePatch64NoSync(b *testing.B) { benchImagePatch(b, true) }

func benchImagePatch(b *testing.B, noSync bool) {
	e := newTestEnv(b, withStoreOptions(func(o *store.Options) { o.NoSync = noSync }), // default: fsync on
		withConfig(func(c *Config) { c.UploadsPerMinute = 1 << 20 })) // the setup uploads 64 images at once
	c := e.createCanvas(e.Admin, "bench")
	ids := make([]string, benchClients)
	for i := range ids {
		ids[i] = e.mustImage(e.Admin, c, "bench.jpg", testJPEG(b, 160, 90)).id()
	}
	for _, id := range ids {
		e.waitImageHash(e.Admin, c, id) // background writes done before timing
	}
	url := func(i int) string { return e.URL + c.path("/images/"+ids[i]) }
	// Two alternating bodies per client: a move, and a resize (aspect fit).
	bodies := [2][]byte{
		[]byte(`{"location": {"x": 120.5, "y": 64}}`),
		[]byte(`{"size": {"width": 800, "height": 800}, "pinned": true}`),
	}
	headBefore := e.Store.HeadSeq(c.ID)
	runClients(b, "patch/s", func(i int, n int64) *http.Request {
		req, _ := http.NewRequest(http.MethodPatch, url(i), bytes.NewReader(bodies[n%2]))
		req.Header.Set("Private-Token", e.Admin)
		req.Header.Set("Content-Type", "application/json")
		return req
	})
	// Every acknowledged PATCH is one event in the log.
	if got := e.Store.HeadSeq(c.ID) - headBefore; got != uint64(b.N) {
		b.Fatalf("%d PATCHes appended %d events", b.N, got)
	}
}

// BenchmarkHTTPFloor64 is GET /healthz with the same 64 clients: the cost
// of the HTTP stack itself (client, net/http, gin, request log, metrics),
// the floor under every API request.
func BenchmarkHTTPFloor64(b *testing.B) {
	e := newTestEnv(b)
	runClients(b, "req/s", func(int, int64) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/healthz", nil)
		return req
	})
}

// runClients sends b.N requests from benchClients concurrent keep-alive
// clients, each expecting 200, and reports throughput, latency percentiles
// and CPU per request.
func runClients(b *testing.B, unit string, newReq func(client int, n int64) *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}}
	defer client.CloseIdleConnections()
	var next, failures atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for i := 0; i < benchClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				req := newReq(i, n)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed, first: %v", f, b.N, firstErr.Load())
	}
	// CPU per request (server and the in-process clients together) does not
	// depend on what else the machine runs; 2 cores / this is the ceiling.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	latencyReport(b, unit, elapsed, lat)
}

// BenchmarkBoltBatchPlain is the baseline: 64 goroutines putting small
// values through bbolt's DB.Batch with default settings (MaxBatchDelay 10 ms,
// MaxBatchSize 1000), fsync on, in a temp file on the same disk.
func BenchmarkBoltBatchPlain(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "plain.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("b")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bucket); return err }); err != nil {
		b.Fatal(err)
	}
	value := bytes.Repeat([]byte("v"), 400) // about the size of an image widget's JSON
	var next, failures atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < benchClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, 8)
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				binary.BigEndian.PutUint64(key, uint64(i)) // one key per writer, overwritten like a PATCH
				t0 := time.Now()
				err := db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) })
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d puts failed", f)
	}
	latencyReport(b, "puts/s", elapsed, lat)
}
