package server

import (
	"net/http"
	"runtime"

	"github.com/canvasd/canvasd"

	"github.com/gin-gonic/gin"
)

// routes is the route table: every route of every dialect, grouped by
// dialect, in the order a reader meets them. No route is registered
// anywhere else.
func (s *Server) routes() {
	r := s.engine

	// --- Canvus API v1 (/api/v1): Private-Token header, session cookie or
	// bearer; errors {"msg": ...}. Handlers in users.go, canvases.go,
	// widgets.go, images.go, ws.go, uncrop.go.
	v1 := r.Group("/api/v1")
	v1.GET("/server-info", s.serverInfo)

	v1.POST("/users/login", s.login)
	authed := v1.Group("", s.authenticated(canvusScheme(false)))
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

	cv := v1.Group("/canvases/:id", s.authenticated(canvusScheme(true)), s.canvasAccess(canvusError, ""))
	cv.GET("", s.getCanvas)
	cv.PATCH("", s.patchCanvas)
	cv.DELETE("", s.canvasOwner, s.deleteCanvas)
	cv.GET("/permissions", s.getPermissions)
	cv.POST("/permissions", s.setPermissions)
	cv.POST("/move", s.canvasOwner, s.moveCanvas)
	cv.POST("/copy", s.copyCanvas)
	cv.GET("/ws", s.websocket)

	// Widgets: one set of routes per kind (widgetKinds in widgets.go), and
	// the kind-less /widgets listing.
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

	// --- Admin (Canvus auth, admin users only): backup.go, uncrop.go.
	r.GET("/admin/backup", s.authenticated(canvusScheme(false)), s.backup)
	admin := r.Group("/admin", s.authenticated(canvusScheme(false)), s.adminOnly)
	admin.GET("/tokens/:tid/credits", s.getCredits)
	admin.PUT("/tokens/:tid/credits", s.setCredits)

	// --- deal-canvas image pipeline (/api/canvas/{deal_id}/images): bearer,
	// Private-Token, or link permission; errors {"detail": ...}. A deal_id
	// is a canvas id, an element_id a widget id. Handlers in deal.go and
	// digitize.go.
	deal := r.Group("/api/canvas/:id/images", s.authenticated(dealScheme()), s.canvasAccess(dealFail, ""))
	deal.POST("/:wid/recrop", s.expensive(detailError), s.recrop)
	deal.GET("/:wid/versions", s.listVersions)
	deal.GET("/:wid/versions/:file", s.getVersion)
	deal.GET("/:wid/source", s.getSource)
	deal.POST("/batch-digitize", s.expensive(detailError), s.batchDigitize(s.batches))
	deal.GET("/batch-digitize/:batch/events", s.batchEvents(s.batches))

	// --- Clipdrop uncrop (/uncrop/v1): x-api-key; errors {"error": ...}.
	// Handler in uncrop.go.
	r.POST("/uncrop/v1", s.authenticated(clipdropScheme()), s.uncropAPI)

	// --- Crop jobs (/v1, Crop.photo's API): bearer; errors
	// {"status":"error", ...}. Handlers in jobs.go and cropops.go.
	jobs := r.Group("/v1", s.authenticated(jobsScheme()))
	jobs.POST("/banners/with-mask", s.createBannerJob)
	jobs.POST("/banners/with-mask/create", s.createBannerJob) // Crop.photo's path
	jobs.POST("/banners/with-mask/status", s.bannerJobStatus)
	jobs.POST("/auto-resize-align", s.autoResizeAlign)
	jobs.POST("/remove-background", s.removeBackground)
	jobs.GET("/outputs/:file", s.getOutput)
	jobs.HEAD("/outputs/:file", s.getOutput)

	// --- Operations: probes, metrics (ops.go, metrics.go), the contract.
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", canvasd.OpenAPI) })

	// --- Everything else: each dialect's 404, or the browser client (web.go).
	r.NoRoute(s.noRoute)
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
