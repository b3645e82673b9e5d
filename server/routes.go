package server

import (
	"net/http"
	"runtime"

	"github.com/gin-gonic/gin"
)

func (s *Server) routes() {
	r := s.engine
	v1 := r.Group("/api/v1")
	v1.GET("/server-info", s.serverInfo)

	v1.POST("/users/login", s.login)
	authed := v1.Group("", s.canvusAuth(false))
	authed.POST("/users/logout", s.logout)
	authed.GET("/users", s.listUsers)
	authed.POST("/users", s.createUser)
	authed.GET("/users/:uid", s.getUser)
	authed.PATCH("/users/:uid", s.patchUser)
	authed.DELETE("/users/:uid", s.deleteUser)
	authed.GET("/users/:uid/access-tokens", s.listTokens)
	authed.POST("/users/:uid/access-tokens", s.createToken)
	authed.GET("/users/:uid/access-tokens/:tid", s.getToken)
	authed.PATCH("/users/:uid/access-tokens/:tid", s.patchToken)
	authed.DELETE("/users/:uid/access-tokens/:tid", s.deleteToken)

	authed.GET("/canvas-folders", s.listFolders)
	authed.POST("/canvas-folders", s.createFolder)
	authed.GET("/canvas-folders/:fid", s.getFolder)
	authed.PATCH("/canvas-folders/:fid", s.patchFolder)
	authed.DELETE("/canvas-folders/:fid", s.deleteFolder)

	authed.GET("/canvases", s.listCanvases)
	authed.POST("/canvases", s.createCanvas)

	cv := v1.Group("/canvases/:id", s.canvusAuth(true), s.canvasAccess(canvusError, ""))
	cv.GET("", s.getCanvas)
	cv.PATCH("", s.patchCanvas)
	cv.DELETE("", s.canvasOwner, s.deleteCanvas)
	cv.GET("/permissions", s.getPermissions)
	cv.POST("/permissions", s.setPermissions)
	cv.POST("/move", s.canvasOwner, s.moveCanvas)
	cv.POST("/copy", s.copyCanvas)
	cv.GET("/ws", s.websocket)

	cv.GET("/widgets", s.listWidgets(""))
	cv.GET("/widgets/:wid", s.getWidget(""))
	for _, k := range widgetKinds {
		p := "/" + k.path
		cv.GET(p, s.listWidgets(k.typ))
		cv.GET(p+"/:wid", s.getWidget(k.typ))
		if k.typ == "Image" {
			cv.POST(p, s.createImage)
			cv.GET(p+"/:wid/download", s.downloadImage)
		} else {
			cv.POST(p, s.createWidget(k))
		}
		cv.PATCH(p+"/:wid", s.patchWidget(k))
		cv.DELETE(p+"/:wid", s.deleteWidget(k.typ))
	}
	cv.POST("/images/:wid/uncrop", s.expensive(canvusError), s.canvasUncrop)
	s.extraRoutes(r)
	r.NoRoute(s.noRoute)
}

// extraRoutes are the routes of the other dialects and the web client.
var extraRouteHooks []func(s *Server, r *gin.Engine)

func (s *Server) extraRoutes(r *gin.Engine) {
	for _, h := range extraRouteHooks {
		h(s, r)
	}
}

func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	switch {
	case len(p) >= 7 && p[:7] == "/api/v1":
		canvusError(c, http.StatusNotFound, "Not found")
	case len(p) >= 11 && p[:11] == "/api/canvas":
		detailError(c, http.StatusNotFound, "Not Found")
	case len(p) >= 7 && p[:7] == "/uncrop":
		clipdropError(c, http.StatusNotFound, "Not found")
	case len(p) >= 4 && p[:4] == "/v1/":
		jobError(c, http.StatusNotFound, "Not found")
	default:
		if s.web != nil && c.Request.Method == http.MethodGet {
			s.serveWeb(c)
			return
		}
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"msg": "Not found"})
	}
}

func (s *Server) serverInfo(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{
		"api":       []string{"v1.2"},
		"go":        runtime.Version(),
		"server_id": s.st.ServerID(),
		"version":   "canvasd " + Version,
	})
}
