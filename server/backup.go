package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// backup streams an online, consistent tar of the store (admin only).
func (s *Server) backup(c *gin.Context) {
	if !userOf(c).Admin {
		canvusError(c, http.StatusForbidden, "Permission denied: admin only")
		return
	}
	c.Header("Content-Type", "application/x-tar")
	c.Header("Content-Disposition", `attachment; filename="canvasd-backup.tar"`)
	c.Status(http.StatusOK)
	if err := s.st.Backup(c.Writer); err != nil {
		s.log.Error().Err(err).Msg("backup")
		c.Abort()
		panic(http.ErrAbortHandler) // cut the connection so the client sees a broken archive, not a short one
	}
}
