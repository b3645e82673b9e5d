package server

import (
	"net/http"

	"github.com/canvasd/canvasd"
	"github.com/gin-gonic/gin"
)

func init() {
	extraRouteHooks = append(extraRouteHooks, func(s *Server, r *gin.Engine) {
		r.GET("/openapi.yaml", func(c *gin.Context) {
			c.Data(http.StatusOK, "application/yaml", canvasd.OpenAPI)
		})
	})
}
