package canvus

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// streamSpec says what a GET's ?subscribe stream follows.
type streamSpec struct {
	topic string // hub topic: a canvas id, or canvasListTopic
	kind  string // "canvas" or "widget"
	list  bool   // a list (lines for every matching resource) or one resource
	id    string // the single resource's id
	typ   string // widget_type filter of a widget list ("" = all)
	// annotations: the widgets carry their "annotations" and the stream
	// follows annotation changes (?annotations=1).
	annotations bool
	// last is the last line of a background or color-presets stream, which
	// sends a line only when its resource changed.
	last []byte
}

// subscribeRequested reports whether ?subscribe asks for a stream.
func subscribeRequested(c *gin.Context) bool { return queryFlag(c, "subscribe") }

// queryFlag reports whether query parameter name is given and not 0, false
// or no (any case).
func queryFlag(c *gin.Context, name string) bool {
	v, ok := c.GetQuery(name)
	if !ok {
		return false
	}
	v = strings.ToLower(v)
	return v != "0" && v != "false" && v != "no"
}

// respond answers a GET: the body as JSON, or with ?subscribe an NDJSON
// stream whose first line is that same body.
func (s *API) respond(c *gin.Context, body any, spec *streamSpec) {
	if !subscribeRequested(c) {
		c.JSON(http.StatusOK, body)
		return
	}
	s.ndjson(c, body, spec)
}

// envelope is the part of an event an NDJSON stream needs.
type envelope struct {
	Seq    uint64          `json:"seq"`
	Type   string          `json:"type"`
	Widget json.RawMessage `json:"widget"`
	Canvas json.RawMessage `json:"canvas"`
}

type resourceHead struct {
	ID         string `json:"id"`
	WidgetType string `json:"widget_type"`
	State      string `json:"state"`
	ParentID   string `json:"parent_id"`
}

// ndjson answers body as the first line of an NDJSON stream, then follows
// spec's topic (a nil spec: keep-alives only) until the client goes, the
// server shuts down, or the caller's access is revoked.
func (s *API) ndjson(c *gin.Context, body any, spec *streamSpec) {
	if spec == nil {
		s.ndjsonRefresh(c, body) // stream_live.go
		return
	}
	// Every canvas-scoped stream is registered with its canvas, including
	// those that follow nothing (permissions: a nil spec), so that losing
	// access ends it like any other.
	canvas := ""
	if spec != nil && spec.topic != core.CanvasListTopic {
		canvas = spec.topic
	} else if cv := core.CanvasOf(c); cv != nil {
		canvas = cv.ID
	}
	live, ok := s.openNDJSONStream(c, canvas)
	if !ok {
		return
	}
	defer live.Close()
	sub, body, ok := s.subscribeSnapshot(c, spec, body)
	if !ok {
		return
	}
	if sub != nil {
		defer sub.Close()
	}
	first, err := json.Marshal(body)
	if err != nil {
		core.CanvusError(c, http.StatusInternalServerError, "encode")
		return
	}
	if spec != nil {
		spec.last = first
	}
	write, done, ok := s.beginNDJSON(c, first)
	defer done()
	if !ok {
		return
	}
	ctx, cancelCause := context.WithCancelCause(c.Request.Context())
	cancel := func() { cancelCause(nil) }
	defer cancel()
	live.Bind(cancelCause) // revocation ends the stream
	go func() {
		select {
		case <-s.Ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	shown := shownCanvases(spec, body)
	msgs, errc := pump(ctx, sub)
	tick := time.NewTicker(s.Cfg.KeepAlive)
	defer tick.Stop()
	// The canvas list also changes without a canvas event: a folder grant
	// given or taken back shows or hides the canvases inside it.
	// It starts closed: one check now catches a change made since the
	// snapshot.
	var authWake <-chan struct{}
	var sent lastLines // canvas list: a grant change is seen by both paths
	if shown != nil {
		sent = lastLines{}
		now := make(chan struct{})
		close(now)
		authWake = now
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-errc:
			return
		case <-tick.C:
			if !write(nil) {
				return
			}
		case <-authWake:
			authWake = s.St.AuthChanged()
			lines, ok := s.canvasListDelta(live, shown) // stream_live.go
			if !ok {
				return
			}
			for _, l := range lines {
				if !sent.fresh(l) {
					continue
				}
				if !write(l) {
					return
				}
			}
		case m := <-msgs:
			if live.Check() != nil {
				return // credentials or access revoked
			}
			lines, end := s.ndjsonLines(spec, live.CurrentUser(), m.Data, shown)
			for _, l := range lines {
				if !sent.fresh(l) {
					continue
				}
				if !write(l) {
					return
				}
			}
			if end {
				return
			}
		}
	}
}

// subscribeSnapshot subscribes to spec's topic (from the canvas's head seq)
// and re-reads body after subscribing, so that nothing between the first
// read and the subscription is missed (a change may show twice, never zero
// times). With a nil spec it returns body as it is. It answers failures.
func (s *API) subscribeSnapshot(c *gin.Context, spec *streamSpec, body any) (*hub.Subscription, any, bool) {
	if spec == nil {
		return nil, body, true
	}
	var since *uint64
	if spec.topic != core.CanvasListTopic {
		h := s.St.HeadSeq(spec.topic)
		since = &h
	}
	sub, err := s.Hub.Subscribe(spec.topic, since, "ndjson-"+store.RandomToken(6))
	if err != nil {
		core.CanvusError(c, http.StatusServiceUnavailable, "Could not subscribe: "+err.Error())
		return nil, nil, false
	}
	fresh, err := s.snapshot(c, spec)
	if err != nil {
		sub.Close()
		if errors.Is(err, store.ErrNotFound) {
			core.CanvusError(c, http.StatusNotFound, "Not found")
		} else {
			core.CanvusStoreError(c, err, "Resource")
		}
		return nil, nil, false
	}
	return sub, fresh, true
}

// openNDJSONStream registers an NDJSON stream on canvas ("" for none), or
// answers 429 when the caller has too many open.
func (s *API) openNDJSONStream(c *gin.Context, canvas string) (*core.LiveStream, bool) {
	live, ok := s.OpenStream(c, canvas, true)
	if !ok {
		core.CanvusError(c, http.StatusTooManyRequests, "Too many open streams for this user or address")
	}
	return live, ok
}

// beginNDJSON lifts the request's deadlines, counts the stream as open,
// starts the NDJSON answer and writes first. done (always to be called,
// deferred) uncounts the stream; ok is false when first could not be written.
func (s *API) beginNDJSON(c *gin.Context, first []byte) (write func(line []byte) bool, done func(), ok bool) {
	s.LiftDeadlines(c)
	s.Streams.Add(1)
	s.Metrics.StreamsOpen.WithLabelValues("ndjson").Inc()
	done = func() {
		s.Metrics.StreamsOpen.WithLabelValues("ndjson").Dec()
		s.Streams.Done()
	}
	write = s.startNDJSON(c)
	return write, done, write(first)
}

// startNDJSON sends the stream's headers and returns its line writer: one
// line per call, each under the write deadline, flushed.
func (s *API) startNDJSON(c *gin.Context) func(line []byte) bool {
	c.Header("Content-Type", "application/x-ndjson")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	return func(line []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(s.Cfg.WriteTimeout))
		if _, err := c.Writer.Write(append(line, '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
}

// shownCanvases is, for a canvas-list stream, the ids of the first line:
// the list shows, and later mentions, only canvases the subscriber could
// see. nil for other streams.
func shownCanvases(spec *streamSpec, body any) map[string]bool {
	if spec == nil || spec.kind != "canvas" || !spec.list {
		return nil
	}
	shown := map[string]bool{}
	if l, ok := body.([]map[string]any); ok {
		for _, m := range l {
			if id, ok := m["id"].(string); ok {
				shown[id] = true
			}
		}
	}
	return shown
}

// pump forwards sub's messages until ctx ends or sub fails (the error goes
// to errc). A nil sub sends nothing.
func pump(ctx context.Context, sub *hub.Subscription) (<-chan hub.Message, <-chan error) {
	msgs := make(chan hub.Message)
	errc := make(chan error, 1)
	if sub == nil {
		return msgs, errc
	}
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	return msgs, errc
}

// snapshot recomputes what the plain GET of spec returns (or the store's
// error: store.ErrNotFound when the resource is gone).
func (s *API) snapshot(c *gin.Context, spec *streamSpec) (any, error) {
	u := core.UserOf(c)
	switch {
	case spec.kind == "canvas" && spec.list:
		return s.canvasList(u)
	case spec.kind == "canvas":
		var cv *store.Canvas
		if err := s.St.View(func(tx *store.Tx) (err error) { cv, err = tx.Canvas(spec.id); return }); err != nil {
			return nil, err
		}
		return canvasJSON(cv, cv.AccessFor(u)), nil
	case spec.kind == "background" || spec.kind == "color-presets":
		return s.canvasSetting(spec.topic, spec.kind)
	case spec.list:
		return s.widgetList(spec.topic, spec.typ, spec.annotations)
	default:
		var w *store.Widget
		if err := s.St.View(func(tx *store.Tx) (err error) { w, err = tx.Widget(spec.topic, spec.id); return }); err != nil {
			return nil, err
		}
		return s.widgetJSON(w, spec.annotations)
	}
}

// ndjsonLines turns one event into the stream's lines, and says whether the
// stream ends (its resource was deleted, or the viewer lost access). shown
// is the canvas list's set of ids the subscriber was given (nil otherwise):
// a canvas it cannot see is mentioned only to withdraw one it was shown.
func (s *API) ndjsonLines(spec *streamSpec, u *store.User, data []byte, shown map[string]bool) ([][]byte, bool) {
	var env envelope
	if json.Unmarshal(data, &env) != nil {
		return nil, false
	}
	if len(env.Canvas) > 0 {
		// Canvas change: recheck access; it may cut the viewer off.
		var head resourceHead
		json.Unmarshal(env.Canvas, &head)
		var cv *store.Canvas
		s.St.View(func(tx *store.Tx) (err error) { cv, err = tx.Canvas(head.ID); return })
		access := store.AccessNone
		if cv != nil {
			access = cv.AccessFor(u)
		}
		if spec.kind == "canvas" {
			if env.Type == store.EvCanvasDeleted || access == store.AccessNone {
				// Nothing about a canvas the subscriber cannot see: only
				// its id, to withdraw it, and only if it was shown.
				if spec.list {
					if !shown[head.ID] {
						return nil, false
					}
					delete(shown, head.ID)
				}
				line, _ := json.Marshal(map[string]string{"id": head.ID, "state": "deleted"})
				return [][]byte{line}, !spec.list
			}
			if spec.list {
				shown[head.ID] = true
			}
			line, _ := json.Marshal(canvasJSON(cv, access))
			return [][]byte{line}, false
		}
		if spec.kind == "background" || spec.kind == "color-presets" {
			if access == store.AccessNone || env.Type == store.EvCanvasDeleted {
				return nil, true
			}
			line, err := json.Marshal(settingJSON(cv, spec.kind))
			if err != nil || string(line) == string(spec.last) {
				return nil, false
			}
			spec.last = line
			return [][]byte{line}, false
		}
		// A widget stream of this canvas.
		return nil, access == store.AccessNone || env.Type == store.EvCanvasDeleted
	}
	if spec.kind != "widget" || len(env.Widget) == 0 {
		return nil, false
	}
	var head resourceHead
	json.Unmarshal(env.Widget, &head)
	if head.WidgetType == "Annotation" {
		// Strokes go only to streams that asked for annotations: a list's,
		// or a widget's own strokes.
		if spec.annotations && (spec.list && spec.typ == "" || !spec.list && head.ParentID == spec.id) {
			return [][]byte{env.Widget}, false
		}
		return nil, false
	}
	if spec.list {
		if spec.typ != "" && head.WidgetType != spec.typ {
			return nil, false
		}
		return [][]byte{env.Widget}, false
	}
	if head.ID != spec.id {
		return nil, false
	}
	return [][]byte{env.Widget}, head.State == "deleted"
}
