package core

// Widget and image-version helpers shared by more than one dialect (canvus,
// deal, clipdrop via canvus's uncrop route, cropjobs placing outputs).

import (
	"errors"
	"fmt"
	"math"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func DefaultProps(typ string) map[string]any {
	p := map[string]any{"location": map[string]any{"x": 0.0, "y": 0.0}, "scale": 1.0, "pinned": false, "state": "normal"}
	switch typ {
	case "Note":
		p["background_color"] = "#ffffff"
		p["text"], p["title"] = "", ""
		p["size"] = map[string]any{"width": 300.0, "height": 300.0}
	case "Anchor":
		p["anchor_name"] = "New anchor"
		p["size"] = map[string]any{"width": 1200.0, "height": 800.0}
	case "Image":
		p["title"], p["original_filename"], p["hash"] = "", "", ""
	case "Pdf":
		p["title"], p["original_filename"], p["hash"] = "", "", ""
		p["index"] = 1.0
		p["size"] = map[string]any{"width": 100.0, "height": 100.0}
	case "Video":
		p["title"], p["original_filename"], p["hash"] = "", "", ""
		p["playback_position"], p["playback_state"] = 0.0, "STOPPED"
		p["size"] = map[string]any{"width": 100.0, "height": 100.0}
	case "Browser":
		p["url"], p["title"], p["transparent_mode"] = "", "", false
		p["main_frame_scroll_offset"] = map[string]any{"x": 0.0, "y": 0.0}
		p["size"] = map[string]any{"width": 1200.0, "height": 800.0}
	case "Annotation":
		p = map[string]any{"line_color": "#000000ff", "state": "normal"}
	case "Connector":
		p = map[string]any{"line_color": "#e7e7f2ff", "line_width": 5.0, "type": "curve", "state": "normal"}
	}
	return p
}

// Round6 rounds to 6 decimals; beyond 1e15 a float64 has no decimals left,
// and v*1e6 could overflow to Inf (which JSON cannot encode).
func Round6(v float64) float64 {
	if math.Abs(v) >= 1e15 {
		return v
	}
	return math.Round(v*1e6) / 1e6
}

// TopDepth returns the highest depth among the children of parent
// (annotations, which stack among themselves, aside). A failed read of the
// canvas's widgets is returned (the write answers 500), never taken for an
// empty canvas.
func TopDepth(tx *store.Tx, canvasID, parent, except string) (float64, error) {
	return TopDepthOf(tx, canvasID, parent, except, false)
}

// TopDepthOf is TopDepth among parent's annotations (annotations true) or
// among its other children.
func TopDepthOf(tx *store.Tx, canvasID, parent, except string, annotations bool) (float64, error) {
	ws, err := tx.Widgets(canvasID)
	if err != nil {
		return 0, fmt.Errorf("top depth: %w", err)
	}
	top := 0.0
	for _, w := range ws {
		if w.ParentID() == parent && w.ID != except && (w.Type == "Annotation") == annotations {
			if d, _ := w.Props["depth"].(float64); d > top {
				top = d
			}
		}
	}
	return top, nil
}

func IDOf(u *store.User) uint64 {
	if u == nil {
		return store.GuestUserID
	}
	return u.ID
}

func VersionedURL(canvasID, widgetID string, version int) string {
	return fmt.Sprintf("/api/canvas/%s/images/%s/versions/%d.png", canvasID, widgetID, version)
}

// NewVersionSized is newVersion with a custom resize of the widget.
func (s *Server) NewVersionSized(c *gin.Context, canvasID, widgetID string, png []byte, pw, ph int, box *imaging.Box, kind string,
	resize func(w *store.Widget, oldW, oldH int), event func(w *store.Widget, version int) (string, map[string]any)) (*store.Widget, error) {
	u := UserOf(c)
	var out *store.Widget
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var hash string
		hash, err = s.St.PutBlobFile(png)
		if err != nil {
			return nil, err
		}
		err = s.St.WriteAs(IDOf(UserOf(c)), func(tx *store.Tx) error {
			w, err := tx.Widget(canvasID, widgetID)
			if err != nil {
				return err // ErrNotFound is a 404; a failed read a 500
			}
			if w.Type != "Image" {
				return store.ErrNotFound
			}
			if err := tx.AddBlobRef(hash); err != nil {
				return err
			}
			next := w.CurrentVersion().Version + 1
			v := store.Version{Version: next, Blob: hash, Width: pw, Height: ph, Kind: kind,
				CreatedAt: tx.Now(), AuthorID: IDOf(u), Author: NameOf(u)}
			if box != nil {
				v.BBox = &[4]float64{box.X, box.Y, box.W, box.H}
			}
			oldW, oldH := w.PixelW, w.PixelH
			w.Versions = append(w.Versions, v)
			w.Blob, w.PixelW, w.PixelH, w.Format = hash, pw, ph, string(imaging.FormatPNG)
			w.Props["hash"] = PublicHash(hash)
			if resize != nil {
				resize(w, oldW, oldH)
			} else {
				size, _ := w.Props["size"].(map[string]any)
				width, _ := size["width"].(float64)
				if width <= 0 {
					width = float64(pw)
				}
				w.Props["size"] = map[string]any{"width": width, "height": Round6(width * float64(ph) / float64(pw))}
			}
			typ, extra := event(w, next)
			out = w
			return tx.UpdateWidget(w, typ, extra)
		})
		if !errors.Is(err, store.ErrBlobGone) {
			break
		}
	}
	return out, err
}
