package render

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

func note(id, parent string, x, y, w, h float64) Widget {
	return Widget{ID: id, Type: "Note", Props: map[string]any{"parent_id": parent,
		"location": map[string]any{"x": x, "y": y}, "size": map[string]any{"width": w, "height": h}, "background_color": "#ff0000"}}
}

func TestRenderEmptyCanvas(t *testing.T) {
	r := newRenderer(t)
	ws := []Widget{{ID: "root", Type: "SharedCanvas", Props: map[string]any{"size": map[string]any{"width": 100.0, "height": 100.0}}},
		{ID: "c", Type: "Connector", Props: map[string]any{"src": map[string]any{"id": "x"}, "dst": map[string]any{"id": "y"}}},
		{ID: "a", Type: "Anchor", Props: map[string]any{"size": map[string]any{"width": 100.0, "height": 100.0}}}}
	if _, err := r.Render(context.Background(), ws, Options{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty (anchors are hidden by default)", err)
	}
}

func TestRenderOutputBound(t *testing.T) {
	r := newRenderer(t)
	// Far apart: scaled down to MaxSide on the long side.
	m, err := r.Render(context.Background(), []Widget{note("a", "", 0, 0, 300, 300), note("b", "", 5e8, 1e8, 300, 300)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != DefaultMaxSide || b.Dy() > DefaultMaxSide {
		t.Errorf("far apart: %v, want %d on the long side", b, DefaultMaxSide)
	}
	// One small note: never enlarged (300 + 2*4% margin = 324).
	m, err = r.Render(context.Background(), []Widget{note("a", "", 10, 10, 300, 300)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 324 || b.Dy() != 324 {
		t.Errorf("small note: %v, want 324x324", b)
	}
	// The note is red in the middle.
	if c := m.RGBAAt(162, 162); c != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("middle pixel %v, want the note's red", c)
	}
}

func TestRenderChildFrame(t *testing.T) {
	r := newRenderer(t)
	// A parent at (1000, 1000) scale 2; its child at local (100, 100)
	// scale 0.5, size 200x200: world box (1200, 1200) to (1400, 1400).
	parent := note("p", "root", 1000, 1000, 400, 400)
	parent.Props["background_color"] = "#0000ff"
	parent.Props["scale"] = 2.0
	child := note("c", "p", 100, 100, 200, 200)
	child.Props["scale"] = 0.5
	child.Props["depth"] = 1.0
	root := Widget{ID: "root", Type: "SharedCanvas", Props: map[string]any{"location": map[string]any{"x": -5000.0, "y": -5000.0}}}
	m, err := r.Render(context.Background(), []Widget{root, child, parent}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Bounds are the parent: (1000,1000)-(1800,1800), margin 32: 864 px.
	if b := m.Bounds(); b.Dx() != 864 {
		t.Fatalf("bounds %v, want 864 wide", b)
	}
	at := func(wx, wy float64) color.RGBA { return m.RGBAAt(int(wx-1000+32), int(wy-1000+32)) }
	if c := at(1300, 1300); c != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("child centre %v, want red (child painted over its parent)", c)
	}
	if c := at(1500, 1500); c != (color.RGBA{0, 0, 255, 255}) {
		t.Errorf("parent outside child %v, want blue", c)
	}
}

func TestRenderParentCycle(t *testing.T) {
	r := newRenderer(t)
	ws := []Widget{note("a", "b", 0, 0, 100, 100), note("b", "a", 0, 0, 100, 100), note("ok", "", 0, 0, 100, 100)}
	m, err := r.Render(context.Background(), ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Dx() != 108 {
		t.Errorf("bounds %v: the cyclic widgets must be left out, the other drawn", m.Bounds())
	}
}

func TestRenderLoaderError(t *testing.T) {
	r := newRenderer(t)
	img := Widget{ID: "i", Type: "Image", Props: map[string]any{"size": map[string]any{"width": 200.0, "height": 100.0}}}
	boom := errors.New("decode budget busy")
	var gotSize image.Point
	_, err := r.Render(context.Background(), []Widget{img}, Options{LoadImage: func(_ context.Context, _ Widget, size image.Point) (image.Image, error) {
		gotSize = size
		return nil, boom
	}})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the loader's error", err)
	}
	if gotSize != (image.Point{200, 100}) {
		t.Errorf("loader asked for %v, want the box in output pixels 200x100", gotSize)
	}
	// No pixels (nil, nil): an empty frame, not an error.
	m, err := r.Render(context.Background(), []Widget{img}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.RGBAAt(8+50, 4+10); c != (color.RGBA{0xec, 0xee, 0xf2, 0xff}) {
		t.Errorf("empty image frame pixel %v, want the placeholder grey", c)
	}
}

func TestRenderHostileTable(t *testing.T) {
	r := newRenderer(t)
	cells := make([]any, 0, 2000)
	for i := range 2000 {
		cells = append(cells, map[string]any{"r": float64(i), "c": 1e12, "text": "x"}, map[string]any{"r": float64(i), "c": 0.0, "rowspan": 1e15, "text": "y"})
	}
	tbl := Widget{ID: "t", Type: "Table", Props: map[string]any{"size": map[string]any{"width": 300.0, "height": 200.0},
		"n_rows": 1e18, "n_cols": -5.0, "cells": cells, "title": "t"}}
	m, err := r.Render(context.Background(), []Widget{tbl}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Dx() != 324 {
		t.Errorf("bounds %v", m.Bounds())
	}
}
