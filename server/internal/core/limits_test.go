package core

import (
	"fmt"
	"testing"
	"time"
)

func TestKeyLimiterEvictsIdleBuckets(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	k := newKeyLimiter(60) // one a second, burst 60: full again after 60 s idle
	for i := range 10_000 {
		k.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), t0)
	}
	if len(k.m) != 10_000 {
		t.Fatalf("%d buckets", len(k.m))
	}
	// A key that used its whole burst at t0+59s is still limited after the
	// sweep at t0+61s (two tokens back); the idle, full buckets are gone.
	for range 60 {
		k.Allow("busy", t0.Add(59*time.Second))
	}
	if ok, _ := k.Allow("busy", t0.Add(59*time.Second)); ok {
		t.Fatal("busy key not limited")
	}
	granted := 0
	for range 5 {
		if ok, _ := k.Allow("busy", t0.Add(61*time.Second)); ok {
			granted++
		}
	}
	if granted != 2 {
		t.Fatalf("busy key got %d of 5 after 2 s, want 2 (its bucket must survive the sweep)", granted)
	}
	if len(k.m) != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", len(k.m))
	}

	// A flood of fresh keys within one refill period stays under maxKeys.
	k.maxKeys = 1000
	for i := range 50_000 {
		k.Allow(fmt.Sprintf("k%d", i), t0.Add(62*time.Second))
	}
	if len(k.m) > 1000 {
		t.Fatalf("%d buckets, want at most 1000", len(k.m))
	}
}
