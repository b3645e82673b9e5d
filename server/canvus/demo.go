package canvus

import (
	"errors"
	"net/http"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// Demo canvases (Canvases_API.md, "Save Demo State", "Restore Demo
// Canvas"): a canvas in mode "demo" keeps a saved state of its widgets,
// taken when it becomes a demo canvas and on each POST /save. POST /restore
// puts the widgets back to it: each widget added, changed or deleted since
// gets its WIDGET_DELETED, WIDGET_UPDATED or WIDGET_CREATED event in the
// canvas's log, so websocket and ?subscribe viewers see the restore like any
// other change and the log stays gapless. Both need edit access.

var errNotDemo = errors.New("not a demo canvas")

// demoWrite runs fn on the canvas if it is a demo canvas, answering {}.
func (s *API) demoWrite(c *gin.Context, fn func(tx *store.Tx, id string) error) {
	id := core.CanvasOf(c).ID
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		cv, err := tx.Canvas(id)
		if err != nil {
			return err
		}
		if cv.Mode != "demo" {
			return errNotDemo
		}
		return fn(tx, id)
	})
	switch {
	case errors.Is(err, errNotDemo):
		core.CanvusError(c, http.StatusBadRequest, "Canvas "+id+" is not a demo canvas")
	case err != nil:
		core.CanvusStoreError(c, err, "Canvas")
	default:
		c.JSON(http.StatusOK, gin.H{})
	}
}

// SaveDemoState is POST /canvases/:id/save.
func (s *API) SaveDemoState(c *gin.Context) {
	s.demoWrite(c, func(tx *store.Tx, id string) error { return tx.SaveDemoState(id) })
}

// RestoreDemoState is POST /canvases/:id/restore.
func (s *API) RestoreDemoState(c *gin.Context) {
	s.demoWrite(c, func(tx *store.Tx, id string) error {
		if !tx.HasDemoState(id) {
			return store.Invalidf("Canvas " + id + " has no saved demo state")
		}
		_, err := tx.RestoreDemoState(id)
		return err
	})
}
