// Package canvus serves the Canvus API v1 (/api/v1) and the admin routes:
// users, tokens, folders, canvases, widgets, images, the canvas websocket and
// NDJSON streams. Errors are {"msg": ...} (core.CanvusError).
// It imports server/internal/core and no other dialect.
package canvus

import (
	"errors"
	"net/http"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// API is the receiver of this dialect's handlers: the shared server state
// (store, hub, logger, limits, ...) reached through the embedded core.Server.
type API struct{ *core.Server }

// New returns the handlers of this dialect over s.
func New(s *core.Server) *API { return &API{Server: s} }

// write runs fn in one write transaction, made for the caller (store.WriteAs:
// the canvas events it appends carry the caller as author). On an error it answers the store
// error in Canvus's shape, naming what ("Folder", "Canvas", ...), and
// returns false; the handler then returns without answering again.
func (s *API) write(c *gin.Context, what string, fn func(*store.Tx) error) bool {
	if err := s.St.WriteAs(canvasAuthor(c), fn); err != nil {
		core.CanvusStoreError(c, err, what)
		return false
	}
	return true
}

// writeEmpty is write, answering {} when fn commits (the DELETE routes).
func (s *API) writeEmpty(c *gin.Context, what string, fn func(*store.Tx) error) {
	if s.write(c, what, fn) {
		c.JSON(http.StatusOK, gin.H{})
	}
}

// nameInFolder is the body of POST /canvas-folders and POST /canvases.
type nameInFolder struct {
	Name     string `json:"name"`
	FolderID string `json:"folder_id"`
}

// readNameInFolder reads a nameInFolder body; folder_id defaults to the
// signed-in user's home folder. On false the error has been answered.
func readNameInFolder(c *gin.Context) (nameInFolder, *store.User, bool) {
	var req nameInFolder
	if !core.CanvusJSON(c, &req) {
		return req, nil, false
	}
	u := core.UserOf(c)
	if req.FolderID == "" {
		req.FolderID = store.HomeFolderID(u.ID)
	}
	return req, u, true
}

// storeFailed answers a store operation that failed (notFoundStatus with
// notFoundMsg when what it looked for is not there, else the store error for
// kind) and says whether it did.
func storeFailed(c *gin.Context, err error, notFoundStatus int, notFoundMsg, kind string) bool {
	if errors.Is(err, store.ErrNotFound) {
		core.CanvusError(c, notFoundStatus, notFoundMsg)
		return true
	}
	if err != nil {
		core.CanvusStoreError(c, err, kind)
		return true
	}
	return false
}
