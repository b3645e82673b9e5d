package canvus

// GET /audit-log and /audit-log/export-csv (admin only): the store's audit
// log (store.AuditLog: the audit bucket merged with the canvas event logs),
// filtered, newest first; the JSON form is paged by an offset cursor with
// the next page in the Link header.

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

const (
	auditDefaultPerPage = 100
	auditMaxPerPage     = 1000
)

func auditJSON(ev *store.AuditEvent) gin.H {
	details := ev.Details
	if details == nil {
		details = map[string]any{}
	}
	return gin.H{"id": ev.ID, "created_at": store.FormatTime(ev.CreatedAt), "author_id": ev.AuthorID, "action": ev.Action,
		"target_type": ev.TargetType, "target_id": ev.TargetID, "details": details}
}

// parseAuditTime reads a filter timestamp: RFC 3339 (with or without
// fraction or zone; no zone is UTC) or a date.
func parseAuditTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// auditQuery reads the documented filters, or answers 400.
func auditQuery(c *gin.Context) (store.AuditQuery, bool) {
	var q store.AuditQuery
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"created_after", &q.CreatedAfter}, {"created_before", &q.CreatedBefore}} {
		if v := c.Query(f.name); v != "" {
			t, ok := parseAuditTime(v)
			if !ok {
				core.CanvusError(c, http.StatusBadRequest, f.name+" must be a timestamp such as 2021-07-02T06:36:18.817Z")
				return q, false
			}
			*f.dst = t
		}
	}
	q.TargetType, q.TargetID = c.Query("target_type"), c.Query("target_id")
	if v := c.Query("author_id"); v != "" {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			core.CanvusError(c, http.StatusBadRequest, "author_id must be a user id")
			return q, false
		}
		q.AuthorID = &id
	}
	return q, true
}

// adminAuditQuery is auditQuery for an admin caller (others get 403).
func adminAuditQuery(c *gin.Context) (store.AuditQuery, bool) {
	if !adminOnlyCanvus(c) {
		return store.AuditQuery{}, false
	}
	return auditQuery(c)
}

func (s *API) GetAuditLog(c *gin.Context) {
	q, ok := adminAuditQuery(c)
	if !ok {
		return
	}
	perPage, cursor := auditDefaultPerPage, 0
	if v := c.Query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMaxPerPage {
			core.CanvusError(c, http.StatusBadRequest, "per_page must be an integer from 1 to "+strconv.Itoa(auditMaxPerPage))
			return
		}
		perPage = n
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			core.CanvusError(c, http.StatusBadRequest, "cursor must be a non-negative integer (from the Link header)")
			return
		}
		cursor = n
	}
	// The first page pins created_before for the pages after it, so that
	// events added meanwhile do not shift the offsets.
	if q.CreatedBefore.IsZero() {
		q.CreatedBefore = s.St.Now().Add(time.Nanosecond)
	}
	evs, err := s.St.AuditLog(q)
	if err != nil {
		core.CanvusStoreError(c, err, "Audit log")
		return
	}
	out := []gin.H{}
	for i := cursor; i < len(evs) && i < cursor+perPage; i++ {
		out = append(out, auditJSON(&evs[i]))
	}
	if cursor+perPage < len(evs) {
		next := url.Values{}
		for k, v := range c.Request.URL.Query() {
			next[k] = v
		}
		next.Set("created_before", q.CreatedBefore.Format(time.RFC3339Nano))
		next.Set("per_page", strconv.Itoa(perPage))
		next.Set("cursor", strconv.Itoa(cursor+perPage))
		c.Header("Link", "<"+s.requestBase(c)+c.Request.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	c.JSON(http.StatusOK, out)
}

// requestBase is Config.PublicURL, else the scheme and host the caller
// used: for absolute links back to this server.
func (s *API) requestBase(c *gin.Context) string {
	if s.Cfg.PublicURL != "" {
		return strings.TrimRight(s.Cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// ExportAuditCSV answers every matching event as CSV, newest first. Cells
// that a spreadsheet would run as a formula get a leading apostrophe.
func (s *API) ExportAuditCSV(c *gin.Context) {
	q, ok := adminAuditQuery(c)
	if !ok {
		return
	}
	evs, err := s.St.AuditLog(q)
	if err != nil {
		core.CanvusStoreError(c, err, "Audit log")
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="audit-log.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	w.Write([]string{"id", "created_at", "author_id", "action", "target_type", "target_id", "details"})
	for i := range evs {
		ev := &evs[i]
		details, _ := json.Marshal(ev.Details)
		if ev.Details == nil {
			details = []byte("{}")
		}
		w.Write([]string{csvCell(ev.ID), store.FormatTime(ev.CreatedAt), strconv.FormatUint(ev.AuthorID, 10), csvCell(ev.Action),
			csvCell(ev.TargetType), csvCell(ev.TargetID), csvCell(string(details))})
	}
	w.Flush()
}

// csvCell defuses spreadsheet formulas (CSV injection): a cell starting
// with = + - @ or a tab/CR gets a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// canvasAuthor is who a canvas write is made for (store.WriteAs): the
// caller, or the Guest for a request that acts through the canvas's link
// permission without a token.
func canvasAuthor(c *gin.Context) uint64 { return core.IDOf(core.UserOf(c)) }
