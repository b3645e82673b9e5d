package hub

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPublishFanout publishes b.N events of 256 bytes to one canvas
// watched by n subscribers, each drained by its own goroutine calling Next
// (as the transport's writer loop does). An op ends when every subscriber
// has received every event.
func BenchmarkPublishFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := New(Options{QueueBytes: 1 << 30}) // measure throughput, not slow-client cuts
			defer h.Close(context.Background())
			data := make([]byte, 256)
			var wg sync.WaitGroup
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < n; i++ {
				s, err := h.Subscribe("bench", nil, fmt.Sprint(i))
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer s.Close()
					// One context per viewer, as each connection has its own.
					ctx, cancel := context.WithCancel(ctx)
					defer cancel()
					for got := 0; got < b.N; got++ {
						if _, err := s.Next(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu := time.Now(), processCPU()
			for i := 1; i <= b.N; i++ {
				h.Publish(Message{Canvas: "bench", Seq: uint64(i), Data: data})
			}
			wg.Wait()
			elapsed, cpu := time.Since(start), processCPU()-cpu
			b.StopTimer()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "cpu-ns/delivery")
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n*b.N), "ns/delivery")
		})
	}
}

// BenchmarkFanoutLatency publishes one event at a time to n idle viewers
// parked in Next and waits until the last one has it: ns/op is the hub's
// share of the edit-to-last-viewer latency (no sockets).
func BenchmarkFanoutLatency(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := New(Options{})
			defer h.Close(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var left atomic.Int64
			allGot := make(chan struct{}, 1)
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				s, err := h.Subscribe("latency", nil, fmt.Sprint(i))
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer s.Close()
					ctx, cancel := context.WithCancel(ctx)
					defer cancel()
					for {
						if _, err := s.Next(ctx); err != nil {
							return
						}
						if left.Add(-1) == 0 {
							allGot <- struct{}{}
						}
					}
				}()
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
			// CPU (all goroutines) to get one event to every viewer: the
			// figure that holds on a busy machine, where wall time does not.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			// How long the publisher holds the topic: the fan-out loop alone.
			b.ReportMetric(float64(inPublish.Nanoseconds())/float64(b.N), "publish-ns/op")
			cancel()
			wg.Wait()
		})
	}
}

// BenchmarkFanoutEnqueue is the hub's own share of a fan-out: one Publish
// to n subscribers that are not parked in Next, so no goroutine is woken.
// The queues are drained between ops, off the clock.
func BenchmarkFanoutEnqueue(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := New(Options{})
			defer h.Close(context.Background())
			subs := make([]*Subscription, n)
			for i := range subs {
				s, err := h.Subscribe("enqueue", nil, fmt.Sprint(i))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				subs[i] = s
			}
			data := make([]byte, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				h.Publish(Message{Canvas: "enqueue", Seq: uint64(i), Data: data})
				b.StopTimer()
				for _, s := range subs {
					if _, ok := s.TryNext(); !ok {
						b.Fatal("not delivered")
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/subscriber")
		})
	}
}

// BenchmarkPublishNoSubscribers is the cost of publishing to a canvas that
// nobody watches.
func BenchmarkPublishNoSubscribers(b *testing.B) {
	h := New(Options{})
	defer h.Close(context.Background())
	m := Message{Canvas: "idle", Seq: 1, Data: make([]byte, 256)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Publish(m)
	}
}

// subscriberMemory subscribes n idle viewers to one canvas, each having
// received and drained one event and holding its Done channel, and returns
// the heap bytes per subscriber; with writers it also parks one goroutine per
// subscriber in Next and counts heap plus stack.
func subscriberMemory(tb testing.TB, n int, writers bool) float64 {
	tb.Helper()
	h := New(Options{})
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("viewer-%06d", i) // the transport owns these anyway
	}
	subs := make([]*Subscription, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	for i := range subs {
		s, err := h.Subscribe("mem", nil, ids[i])
		if err != nil {
			tb.Fatal(err)
		}
		s.Done()
		subs[i] = s
	}
	h.Publish(Message{Canvas: "mem", Seq: 1, Data: make([]byte, 256)})
	for _, s := range subs {
		if _, ok := s.TryNext(); !ok {
			tb.Fatal("event not delivered")
		}
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	if writers {
		wg.Add(n)
		for _, s := range subs {
			go func() {
				defer wg.Done()
				s.Next(ctx)
			}()
		}
		// Let every writer park in Next.
		for runtime.NumGoroutine() < n {
			runtime.Gosched()
		}
		time.Sleep(50 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := float64(after.HeapAlloc-before.HeapAlloc) + float64(after.StackInuse) - float64(before.StackInuse)

	cancel()
	wg.Wait()
	for _, s := range subs {
		s.Close()
	}
	if err := h.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	runtime.KeepAlive(subs)
	return used / float64(n)
}

// BenchmarkSubscriberMemory reports the memory one idle viewer costs the
// hub (hub-B/sub), and with the transport's writer goroutine parked in Next
// (with-writer-B/sub).
func BenchmarkSubscriberMemory(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			var hub, withWriter float64
			for i := 0; i < b.N; i++ {
				hub += subscriberMemory(b, n, false)
				withWriter += subscriberMemory(b, n, true)
			}
			b.ReportMetric(hub/float64(b.N), "hub-B/sub")
			b.ReportMetric(withWriter/float64(b.N), "with-writer-B/sub")
		})
	}
}

// TestIdleSubscriberIsSmall guards the memory budget: 10,000 idle viewers
// must fit in 24 KiB each including the transport, so the hub's share must
// stay a small fraction of it.
func TestIdleSubscriberIsSmall(t *testing.T) {
	if per := subscriberMemory(t, 2000, false); per > 2048 {
		t.Fatalf("an idle subscription costs %.0f bytes, want at most 2048", per)
	}
}
