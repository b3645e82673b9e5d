package canvus

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/gin-gonic/gin"
)

// A ?subscribe stream of a GET that follows no hub topic (users, tokens,
// folders, permissions: a nil streamSpec) is fed by re-running that GET.
// Every change to users, tokens, folders and canvases moves the store's
// AuthGen and closes store.AuthChanged; on each wake the stream re-checks
// its credentials (ending if they were revoked), runs the route's handler
// again as the caller is now (core.Server.Apply: current user, canvas and
// access), and sends what differs from what it sent before:
//
//   - a list: each item that is new or changed, as the GET shows it, and
//     {"id": ..., "state": "deleted"} for each item that is gone or that
//     the caller may no longer see;
//   - one resource: the resource when it changed; when the GET would now
//     fail (deleted, or access lost) {"id": ..., "state": "deleted"} and the
//     stream ends;
//   - a list or an object without an id (permissions) whose GET now fails:
//     the stream ends.
//
// Every line is something the plain GET would show the caller at that
// moment, so a subscriber never sees what it could not GET.

// liveView is what a refresh stream last sent: a list's items by id, or an
// object.
type liveView struct {
	list  bool
	items map[string][]byte // list: raw id -> item JSON
	order []string          // list: ids in the GET's order
	obj   []byte            // object
	id    json.RawMessage   // object's id, if it has one
}

func parseLiveView(body []byte) (*liveView, bool) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var raw []json.RawMessage
		if json.Unmarshal(body, &raw) != nil {
			return nil, false
		}
		v := &liveView{list: true, items: make(map[string][]byte, len(raw))}
		for _, it := range raw {
			var head struct {
				ID json.RawMessage `json:"id"`
			}
			json.Unmarshal(it, &head)
			k := string(head.ID)
			if _, dup := v.items[k]; !dup {
				v.order = append(v.order, k)
			}
			v.items[k] = it
		}
		return v, true
	}
	var head struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &head) != nil {
		return nil, false
	}
	return &liveView{obj: body, id: head.ID}, true
}

// diff is the lines that take a subscriber from v to next.
func (v *liveView) diff(next *liveView) [][]byte {
	var lines [][]byte
	if !v.list {
		if !bytes.Equal(v.obj, next.obj) {
			lines = append(lines, next.obj)
		}
		return lines
	}
	for _, k := range next.order {
		if old, ok := v.items[k]; !ok || !bytes.Equal(old, next.items[k]) {
			lines = append(lines, next.items[k])
		}
	}
	for _, k := range v.order {
		if _, ok := next.items[k]; !ok && k != "" {
			lines = append(lines, deletedLine(json.RawMessage(k)))
		}
	}
	return lines
}

func deletedLine(id json.RawMessage) []byte {
	line, _ := json.Marshal(map[string]any{"id": id, "state": "deleted"})
	return line
}

// ndjsonRefresh answers body as the first line of an NDJSON stream and then
// follows it by re-running the route's GET handler on every AuthGen change.
func (s *API) ndjsonRefresh(c *gin.Context, body any) {
	canvas := ""
	if cv := core.CanvasOf(c); cv != nil {
		canvas = cv.ID
	}
	live, ok := s.openNDJSONStream(c, canvas)
	if !ok {
		return
	}
	defer live.Close()
	first, err := json.Marshal(body)
	if err != nil {
		core.CanvusError(c, http.StatusInternalServerError, "encode")
		return
	}
	view, ok := parseLiveView(first)
	if !ok {
		core.CanvusError(c, http.StatusInternalServerError, "encode")
		return
	}
	// Before the first line: a change committed from here on wakes us.
	wake := s.St.AuthChanged()
	handler, ident := c.Handler(), core.IdentityOf(c)
	params := append(gin.Params(nil), c.Params...)
	req := c.Request.Clone(context.WithoutCancel(c.Request.Context()))
	q := req.URL.Query()
	q.Del("subscribe")
	req.URL.RawQuery = q.Encode()

	write, done, ok := s.beginNDJSON(c, first)
	defer done()
	if !ok {
		return
	}
	ctx, cancelCause := context.WithCancelCause(c.Request.Context())
	defer cancelCause(nil)
	live.Bind(cancelCause)
	tick := time.NewTicker(s.Cfg.KeepAlive)
	defer tick.Stop()
	// The GET was read before wake was taken: one refresh now catches a
	// change committed in between.
	refresh := make(chan struct{}, 1)
	refresh <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Ctx.Done():
			return
		case <-tick.C:
			if !write(nil) {
				return
			}
			continue
		case <-wake:
			wake = s.St.AuthChanged()
		case <-refresh:
		}
		if live.Check() != nil {
			return // credentials or canvas access revoked
		}
		rec := httptest.NewRecorder()
		dc := gin.CreateTestContextOnly(rec, s.Gin)
		dc.Request, dc.Params = req, params
		var next *liveView
		if s.Apply(ident, dc, live.CurrentUser()) {
			handler(dc)
			if rec.Code == http.StatusOK {
				next, _ = parseLiveView(rec.Body.Bytes())
			}
		}
		// Checked again after the read: a revocation committed before
		// anything the handler read moved AuthGen before that read, so
		// this check sees it, and nothing read after it is sent.
		if live.Check() != nil {
			return
		}
		if next == nil || next.list != view.list {
			// The GET fails now: the resource is gone or hidden.
			if !view.list && len(view.id) > 0 {
				write(deletedLine(view.id))
			}
			return
		}
		for _, l := range view.diff(next) {
			if !write(l) {
				return
			}
		}
		view = next
	}
}

// canvasListDelta is, for a canvas-list stream, the lines for canvases the
// subscriber can now see and was not shown (in full) and those it was shown
// and can no longer see ({"id", "state": "deleted"}); it updates shown.
// false when the stream must end (credentials or access revoked).
func (s *API) canvasListDelta(live *core.LiveStream, shown map[string]bool) ([][]byte, bool) {
	if live.Check() != nil {
		return nil, false
	}
	list, err := s.canvasList(live.CurrentUser())
	if err != nil {
		return nil, true // a read error: the next change tries again
	}
	if live.Check() != nil { // see ndjsonRefresh: nothing read after a revocation
		return nil, false
	}
	var lines [][]byte
	now := make(map[string]bool, len(list))
	for _, m := range list {
		id, _ := m["id"].(string)
		now[id] = true
		if !shown[id] {
			shown[id] = true
			if l, err := json.Marshal(m); err == nil {
				lines = append(lines, l)
			}
		}
	}
	for id := range shown {
		if !now[id] {
			delete(shown, id)
			lines = append(lines, deletedLine(json.RawMessage(strconvQuote(id))))
		}
	}
	return lines, true
}

func strconvQuote(s string) []byte { b, _ := json.Marshal(s); return b }

// lastLines is, for a canvas-list stream, the last line sent about each
// canvas. A share is seen twice, by the grant check (canvasListDelta) and
// by the canvas's own event: the second, identical line is not sent again.
// A nil lastLines lets every line through.
type lastLines map[string][]byte

func (l lastLines) fresh(line []byte) bool {
	if l == nil {
		return true
	}
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &head) != nil || head.ID == "" {
		return true
	}
	if bytes.Equal(l[head.ID], line) {
		return false
	}
	l[head.ID] = line
	return true
}
