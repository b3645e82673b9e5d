package canvus

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Backup streams an online, consistent tar of the store (admin only).
func (s *API) Backup(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	c.Header("Content-Type", "application/x-tar")
	c.Header("Content-Disposition", `attachment; filename="canvasd-backup.tar"`)
	c.Status(http.StatusOK)
	if err := s.St.Backup(c.Writer); err != nil {
		s.Log.Error().Err(err).Msg("backup")
		c.Abort()
		panic(http.ErrAbortHandler) // cut the connection so the client sees a broken archive, not a short one
	}
}
