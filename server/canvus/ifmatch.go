package canvus

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// Optimistic concurrency on widget PATCH.
//
// A widget's version is the seq of its last event in the canvas's log
// (store.Tx.WidgetVersion): the "seq" of the WIDGET_CREATED/WIDGET_UPDATED
// (or IMAGE_RECROPPED, ...) event that last carried it. GET and PATCH of a
// widget answer it as a strong ETag ("17"); the widget JSON itself is
// unchanged (images already have "version", the re-crop version). A PATCH
// with If-Match: "17" is applied only if the widget is still at version 17,
// checked inside the write transaction; otherwise it answers 412 and stores
// nothing. If-Match: * matches any existing widget. Without If-Match the
// PATCH is last-writer-wins, as in the Canvus API.

// ifMatch is a parsed If-Match header: any (*) or a list of versions.
type ifMatch struct {
	any  bool
	tags []string // the entity tags, unquoted, as sent
}

// parseIfMatch reads the request's If-Match; nil when there is none.
func parseIfMatch(c *gin.Context) *ifMatch {
	vals := c.Request.Header.Values("If-Match")
	if len(vals) == 0 {
		return nil
	}
	m := &ifMatch{}
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if t == "*" {
				m.any = true
				continue
			}
			t = strings.TrimPrefix(t, "W/")
			m.tags = append(m.tags, strings.Trim(t, `"`))
		}
	}
	if !m.any && len(m.tags) == 0 {
		m.tags = []string{""} // an empty If-Match matches nothing
	}
	return m
}

// matches reports whether version v satisfies the header.
func (m *ifMatch) matches(v uint64) bool {
	if m.any {
		return true
	}
	want := strconv.FormatUint(v, 10)
	for _, t := range m.tags {
		if t == want {
			return true
		}
	}
	return false
}

// preconditionFailed is the error a PATCH's write returns when If-Match
// does not match the widget's version; nothing was stored.
type preconditionFailed struct {
	sent string
	now  uint64
}

func (e *preconditionFailed) Error() string {
	return fmt.Sprintf("Widget changed since version %s (now %d)", e.sent, e.now)
}

// checkIfMatch runs inside the write transaction, before the change: the
// widget must exist with the wanted type, and be at a version m accepts.
func checkIfMatch(tx *store.Tx, m *ifMatch, canvasID, wid, typ string) error {
	if m == nil {
		return nil
	}
	w, err := tx.Widget(canvasID, wid)
	if err != nil {
		return err // ErrNotFound is a 404; a failed read a 500
	}
	if typ != "" && w.Type != typ {
		return store.ErrNotFound
	}
	if v := tx.WidgetVersion(canvasID, wid); !m.matches(v) {
		return &preconditionFailed{sent: strings.Join(m.tags, ", "), now: v}
	}
	return nil
}

// setETag sets the ETag header to the widget's version.
func setETag(c *gin.Context, version uint64) {
	c.Header("ETag", `"`+strconv.FormatUint(version, 10)+`"`)
}

// widgetVersion reads a widget's version in its own read transaction.
func (s *API) widgetVersion(canvasID, wid string) uint64 {
	var v uint64
	s.St.View(func(tx *store.Tx) error { v = tx.WidgetVersion(canvasID, wid); return nil })
	return v
}

// answerPrecondition answers 412 when err is a failed If-Match.
func answerPrecondition(c *gin.Context, err error) bool {
	pf, ok := err.(*preconditionFailed)
	if !ok {
		return false
	}
	c.Header("ETag", `"`+strconv.FormatUint(pf.now, 10)+`"`)
	core.CanvusError(c, http.StatusPreconditionFailed, pf.Error())
	return true
}
