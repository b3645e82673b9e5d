package hub

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canvasd/canvasd/internal/wsfan"
)

// drainSource is a wsfan.Source that drains its subscription and counts,
// writing nothing: the pool's share of a fan-out without sockets.
type drainSource struct {
	sub  *Subscription
	buf  []Message
	left *atomic.Int64
	all  chan struct{}
}

func (d *drainSource) Fill(*wsfan.Batch) func() {
	var err error
	d.buf, err = d.sub.Drain(d.buf[:0])
	if err != nil {
		return func() {}
	}
	for range d.buf {
		if d.left.Add(-1) == 0 {
			d.all <- struct{}{}
		}
	}
	clear(d.buf)
	return nil
}

func (d *drainSource) Broken(error) {}

// BenchmarkFanoutLatencyWake is BenchmarkFanoutLatency with SubscribeWake
// subscriptions drained by a wsfan.Pool (issue 15): no goroutine parked per
// viewer, a few pool goroutines woken per event. No sockets: what it adds
// over the hub's loop is the wake-up and the drain.
func BenchmarkFanoutLatencyWake(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := New(Options{})
			defer h.Close(context.Background())
			var pool wsfan.Pool
			var left atomic.Int64
			allGot := make(chan struct{}, 1)
			for i := 0; i < n; i++ {
				d := &drainSource{left: &left, all: allGot}
				sess := pool.NewSession(nil, d, 0)
				s, err := h.SubscribeWake("latency", nil, fmt.Sprint(i), sess.Wake)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				d.sub = s
				sess.Start()
			}
			data := make([]byte, 256)
			var inPublish time.Duration
			b.ResetTimer()
			cpu := processCPU()
			for i := 1; i <= b.N; i++ {
				left.Store(int64(n))
				start := time.Now()
				h.Publish(Message{Canvas: "latency", Seq: uint64(i), Data: data})
				inPublish += time.Since(start)
				<-allGot
			}
			cpu = processCPU() - cpu
			b.StopTimer()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(inPublish.Nanoseconds())/float64(b.N), "publish-ns/op")
		})
	}
}
