package server

import (
	"net/http"
	"runtime"

	"github.com/canvasd/canvasd"

	"github.com/canvasd/canvasd/server/canvus"
	"github.com/canvasd/canvasd/server/deal"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/gin-gonic/gin"
)

// routes is the route table: every route of every dialect, grouped by
// dialect, in the order a reader meets them. No route is registered
// anywhere else.
func (s *Server) routes() {
	r := s.Gin

	// --- Canvus API v1 (/api/v1): Private-Token header, session cookie or
	// bearer; errors {"msg": ...}. Handlers: package canvus (users.go,
	// canvases.go, widgets.go, images.go, ws.go, stream.go, uncrop.go).
	v1 := r.Group("/api/v1")
	v1.GET("/server-info", s.serverInfo)

	v1.POST("/users/login", s.canvus.Login)
	authed := v1.Group("", s.Authenticated(core.CanvusScheme(false)))
	authed.POST("/users/logout", s.canvus.Logout)
	authed.GET("/users", s.canvus.ListUsers)
	authed.POST("/users", s.canvus.CreateUser)
	authed.GET("/users/:uid", s.canvus.GetUser)
	authed.PATCH("/users/:uid", s.canvus.PatchUser)
	authed.DELETE("/users/:uid", s.canvus.DeleteUser)
	authed.GET("/users/:uid/access-tokens", s.canvus.ListTokens)
	authed.POST("/users/:uid/access-tokens", s.canvus.CreateToken)
	authed.GET("/users/:uid/access-tokens/:tid", s.canvus.GetToken)
	authed.PATCH("/users/:uid/access-tokens/:tid", s.canvus.PatchToken)
	authed.DELETE("/users/:uid/access-tokens/:tid", s.canvus.DeleteToken)

	authed.GET("/canvas-folders", s.canvus.ListFolders)
	authed.POST("/canvas-folders", s.canvus.CreateFolder)
	authed.GET("/canvas-folders/:fid", s.canvus.GetFolder)
	authed.PATCH("/canvas-folders/:fid", s.canvus.PatchFolder)
	authed.DELETE("/canvas-folders/:fid", s.canvus.DeleteFolder)
	authed.POST("/canvas-folders/:fid/move", s.canvus.MoveFolder)
	authed.POST("/canvas-folders/:fid/copy", s.canvus.CopyFolder)
	authed.DELETE("/canvas-folders/:fid/children", s.canvus.DeleteFolderChildren)
	authed.GET("/canvas-folders/:fid/permissions", s.canvus.GetFolderPermissions)
	authed.POST("/canvas-folders/:fid/permissions", s.canvus.SetFolderPermissions)

	authed.GET("/canvases", s.canvus.ListCanvases)
	authed.POST("/canvases", s.canvus.CreateCanvas)

	cv := v1.Group("/canvases/:id", s.Authenticated(core.CanvusScheme(true)), s.CanvasAccess(core.CanvusError, ""))
	cv.GET("", s.canvus.GetCanvas)
	cv.PATCH("", s.canvus.PatchCanvas)
	cv.DELETE("", s.canvus.CanvasOwner, s.canvus.DeleteCanvas)
	cv.GET("/permissions", s.canvus.GetPermissions)
	cv.POST("/permissions", s.canvus.SetPermissions)
	cv.POST("/move", s.canvus.CanvasOwner, s.canvus.MoveCanvas)
	cv.POST("/copy", s.canvus.CopyCanvas)
	cv.POST("/save", s.canvus.SaveDemoState)
	cv.POST("/restore", s.canvus.RestoreDemoState)
	cv.GET("/ws", s.canvus.Websocket)
	cv.GET("/preview", s.canvus.NewPreviews().Get) // preview.go

	// Widgets: one set of routes per kind (canvus.WidgetKinds), and
	// the kind-less /widgets listing.
	// /widgets dispatches on widget_type (canvus/widgettypes.go; annotations
	// are made, changed and deleted there); ?annotations=1 on the GETs.
	cv.GET("/widgets", s.canvus.ListWidgets(""))
	cv.GET("/widgets/:wid", s.canvus.GetWidget(""))
	cv.POST("/widgets", s.canvus.CreateAnyWidget)
	cv.PATCH("/widgets/:wid", s.canvus.PatchAnyWidget)
	cv.DELETE("/widgets/:wid", s.canvus.DeleteWidget(""))
	for _, k := range canvus.WidgetKinds {
		p := "/" + k.Path
		cv.GET(p, s.canvus.ListWidgets(k.Typ))
		cv.GET(p+"/:wid", s.canvus.GetWidget(k.Typ))
		switch {
		case k.Typ == "Image":
			cv.POST(p, s.canvus.CreateImage)
			cv.GET(p+"/:wid/download", s.canvus.DownloadImage)
		case k.Typ == "Pdf" || k.Typ == "Video": // canvus/media.go
			cv.POST(p, s.canvus.CreateMedia(k.Typ))
			cv.GET(p+"/:wid/download", s.canvus.DownloadMedia(k.Typ))
		case !k.NoCreate:
			cv.POST(p, s.canvus.CreateWidget(k))
		}
		cv.PATCH(p+"/:wid", s.canvus.PatchWidget(k))
		cv.DELETE(p+"/:wid", s.canvus.DeleteWidget(k.Typ))
	}
	cv.POST("/images/:wid/uncrop", s.Expensive(core.CanvusError), s.canvus.CanvasUncrop)
	// Background, colour presets, uploads folder: canvus/background.go,
	// canvus/uploads.go.
	cv.GET("/background", s.canvus.GetBackground)
	cv.PATCH("/background", s.canvus.PatchBackground)
	cv.POST("/background", s.canvus.PostBackground)
	cv.GET("/color-presets", s.canvus.GetColorPresets)
	cv.PATCH("/color-presets", s.canvus.PatchColorPresets)
	cv.POST("/uploads-folder", s.canvus.UploadToFolder)

	// Account flows (canvus/accounts.go): public ones on v1, the rest signed
	// in. /users/register takes an optional token (an admin may set admin
	// and approved).
	v1.POST("/users/register", s.Authenticated(core.CanvusScheme(true)), s.canvus.Register)
	v1.POST("/users/confirm-email", s.canvus.ConfirmEmail)
	v1.POST("/users/password/create-reset-token", s.canvus.CreateResetToken)
	v1.GET("/users/password/validate-reset-token", s.canvus.ValidateResetToken)
	v1.POST("/users/password/reset", s.canvus.ResetPassword)
	v1.POST("/users/login/saml", s.canvus.SAMLLogin)
	authed.POST("/users/:uid/approve", s.canvus.ApproveUser())
	authed.POST("/users/:uid/password", s.canvus.ChangePassword)
	authed.POST("/users/:uid/block", s.canvus.BlockUser())
	authed.POST("/users/:uid/unblock", s.canvus.UnblockUser())

	// Groups (canvus/groups.go): read by every signed-in user, written by admins.
	authed.GET("/groups", s.canvus.ListGroups)
	authed.POST("/groups", s.canvus.CreateGroup)
	authed.GET("/groups/:gid", s.canvus.GetGroup)
	authed.DELETE("/groups/:gid", s.canvus.DeleteGroup)
	authed.GET("/groups/:gid/members", s.canvus.ListGroupMembers)
	authed.POST("/groups/:gid/members", s.canvus.AddGroupMember)
	authed.DELETE("/groups/:gid/members/:uid", s.canvus.RemoveGroupMember)

	// Server config and license (canvus/serverconfig.go): the config is
	// readable without a token (a subset unless admin); the rest is admin
	// only.
	v1.GET("/server-config", s.Authenticated(core.CanvusScheme(true)), s.canvus.GetServerConfig)
	authed.PATCH("/server-config", s.canvus.PatchServerConfig)
	authed.POST("/server-config/send-test-email", s.canvus.SendTestEmail)
	authed.GET("/license", s.canvus.GetLicense)

	// Audit log (canvus/audit.go): admin only.
	authed.GET("/audit-log", s.canvus.GetAuditLog)
	authed.GET("/audit-log/export-csv", s.canvus.ExportAuditCSV)

	// Mipmaps and assets by hash (canvus/mipmaps.go): the canvas is named
	// by the canvas-id header, not the path.
	mip := s.canvus.NewMipmaps()
	assets := v1.Group("", mip.CanvasFromHeader, s.Authenticated(core.CanvusScheme(true)), s.CanvasAccess(core.CanvusError, ""))
	assets.GET("/mipmaps/:hash", mip.Info)
	assets.GET("/mipmaps/:hash/:level", mip.Level)
	assets.GET("/assets/:hash", mip.Asset)

	// --- Admin (Canvus auth, admin users only): canvus/backup.go,
	// canvus/uncrop.go.
	r.GET("/admin/backup", s.Authenticated(core.CanvusScheme(false)), s.canvus.Backup)
	admin := r.Group("/admin", s.Authenticated(core.CanvusScheme(false)), s.canvus.AdminOnly)
	admin.GET("/tokens/:tid/credits", s.canvus.GetCredits)
	admin.PUT("/tokens/:tid/credits", s.canvus.SetCredits)

	// --- deal-canvas image pipeline (/api/canvas/{deal_id}/images): bearer,
	// Private-Token, or link permission; errors {"detail": ...}. A deal_id
	// is a canvas id, an element_id a widget id. Handlers: package deal
	// (deal.go, digitize.go).
	dealImgs := r.Group("/api/canvas/:id/images", s.Authenticated(core.DealScheme()), s.CanvasAccess(deal.DealFail, ""))
	dealImgs.POST("/:wid/recrop", s.Expensive(core.DetailError), s.deal.Recrop)
	dealImgs.GET("/:wid/versions", s.deal.ListVersions)
	dealImgs.GET("/:wid/versions/:file", s.deal.GetVersion)
	dealImgs.GET("/:wid/source", s.deal.GetSource)
	dealImgs.POST("/batch-digitize", s.Expensive(core.DetailError), s.deal.BatchDigitize(s.Batches))
	dealImgs.GET("/batch-digitize/:batch/events", s.deal.BatchEvents(s.Batches))

	// --- Clipdrop uncrop (/uncrop/v1): x-api-key; errors {"error": ...}.
	// Handler: package clipdrop.
	r.POST("/uncrop/v1", s.Authenticated(core.ClipdropScheme()), s.clipdrop.UncropAPI)

	// --- Crop jobs (/v1, Crop.photo's API): bearer; errors
	// {"status":"error", ...}. Handlers: package cropjobs (jobs.go,
	// cropops.go).
	jobs := r.Group("/v1", s.Authenticated(core.JobsScheme()))
	jobs.POST("/banners/with-mask", s.cropjobs.CreateBannerJob)
	jobs.POST("/banners/with-mask/create", s.cropjobs.CreateBannerJob) // Crop.photo's path
	jobs.POST("/banners/with-mask/status", s.cropjobs.BannerJobStatus)
	jobs.POST("/auto-resize-align", s.cropjobs.AutoResizeAlign)
	jobs.POST("/remove-background", s.cropjobs.RemoveBackground)
	jobs.GET("/outputs/:file", s.cropjobs.GetOutput)
	jobs.HEAD("/outputs/:file", s.cropjobs.GetOutput)

	// --- Operations: probes, metrics (core/ops.go, core/metrics.go), the
	// contract.
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.Readyz)
	r.GET("/metrics", s.MetricsRoute())
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", canvasd.OpenAPI) })

	// --- Everything else: each dialect's 404, or the browser client
	// (core/web.go).
	r.NoRoute(s.noRoute)
}

func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	switch {
	case len(p) >= 7 && p[:7] == "/api/v1":
		core.CanvusError(c, http.StatusNotFound, "Not found")
	case len(p) >= 11 && p[:11] == "/api/canvas":
		core.DetailError(c, http.StatusNotFound, "Not Found")
	case len(p) >= 7 && p[:7] == "/uncrop":
		core.ClipdropError(c, http.StatusNotFound, "Not found")
	case len(p) >= 4 && p[:4] == "/v1/":
		core.JobError(c, http.StatusNotFound, "Not found")
	default:
		if s.Web != nil && c.Request.Method == http.MethodGet {
			s.ServeWeb(c)
			return
		}
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"msg": "Not found"})
	}
}

func (s *Server) serverInfo(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{
		"api":       []string{"v1.2"},
		"go":        runtime.Version(),
		"server_id": s.St.ServerID(),
		"version":   "canvasd " + Version,
	})
}
