package core

import (
	"errors"
	"testing"
	"time"
)

// TestDecodeGuardUnits: the guard refuses a decode above the whole budget at
// once, caps an operation that is larger only with its other buffers, is
// busy while the budget is taken and free again after release.
func TestDecodeGuardUnits(t *testing.T) {
	g := newDecodeGuard(4, 100, 0)
	ctx := t.Context()
	var ob *OverBudgetError
	if err := g.Acquire(ctx, 101, time.Millisecond); !errors.As(err, &ob) {
		t.Fatalf("over budget: %v", err)
	}
	if w := g.Weigh(60, 70); w != 100 {
		t.Fatalf("weigh(60, 70) = %d, want the budget", w)
	}
	if w := g.Weigh(120, 0); w != 120 {
		t.Fatalf("weigh(120, 0) = %d, want 120 (refused by acquire)", w)
	}
	if err := g.Acquire(ctx, 60, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := g.Acquire(ctx, 60, 5*time.Millisecond); !errors.Is(err, ErrDecodeBusy) {
		t.Fatalf("second 60 of 100: %v, want busy", err)
	}
	if err := g.Acquire(ctx, 40, time.Millisecond); err != nil {
		t.Fatalf("40 more of 100: %v", err)
	}
	g.Release(60)
	g.Release(40)
	if err := g.Acquire(ctx, 100, time.Millisecond); err != nil {
		t.Fatalf("whole budget after release: %v", err)
	}
	g.Release(100)
	// The slot count bounds operations whatever their weight.
	one := newDecodeGuard(1, 100, 0)
	if err := one.Acquire(ctx, 0, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := one.Acquire(ctx, 0, 5*time.Millisecond); !errors.Is(err, ErrDecodeBusy) {
		t.Fatalf("second operation with one slot: %v, want busy", err)
	}
	one.Release(0)
}
