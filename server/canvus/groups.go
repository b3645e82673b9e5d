package canvus

// The Canvus Groups API (read by every signed-in user, written by admins)
// and group grants in canvas permissions. Membership is kept on each user
// (store.User.Groups), so an access check reads no more than before.

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func groupJSON(g *store.Group) gin.H {
	return gin.H{"description": g.Description, "id": g.ID, "name": g.Name}
}

func groupAudit(c *gin.Context, action string, gid uint64, details map[string]any) store.AuditEvent {
	return store.AuditEvent{AuthorID: authorOf(c), Action: action, TargetType: "group", TargetID: strconv.FormatUint(gid, 10), Details: details}
}

// adminOnlyCanvus answers 403 unless the caller is an admin.
func adminOnlyCanvus(c *gin.Context) bool {
	if u := core.UserOf(c); u == nil || !u.Admin {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: admin only")
		return false
	}
	return true
}

// adminGroupParam is groupParam for an admin caller (others get 403).
func (s *API) adminGroupParam(c *gin.Context) (*store.Group, bool) {
	if !adminOnlyCanvus(c) {
		return nil, false
	}
	return s.groupParam(c)
}

// groupParam resolves :gid to an existing group, or answers 404.
func (s *API) groupParam(c *gin.Context) (*store.Group, bool) {
	id, err := strconv.ParseUint(c.Param("gid"), 10, 64)
	if err != nil {
		core.CanvusError(c, http.StatusNotFound, "Group not found")
		return nil, false
	}
	var g *store.Group
	if err := s.St.View(func(tx *store.Tx) (err error) { g, err = tx.Group(id); return }); err != nil {
		core.CanvusStoreError(c, err, "Group")
		return nil, false
	}
	return g, true
}

func (s *API) ListGroups(c *gin.Context) {
	var gs []*store.Group
	if err := s.St.View(func(tx *store.Tx) (err error) { gs, err = tx.Groups(); return }); err != nil {
		core.CanvusStoreError(c, err, "Group")
		return
	}
	out := make([]gin.H, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupJSON(g))
	}
	s.respond(c, out, nil)
}

func (s *API) GetGroup(c *gin.Context) {
	if g, ok := s.groupParam(c); ok {
		s.respond(c, groupJSON(g), nil)
	}
}

func (s *API) CreateGroup(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	var req struct {
		Name        *string `json:"name"`
		Description string  `json:"description"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if req.Name == nil {
		core.CanvusError(c, http.StatusBadRequest, "name is required")
		return
	}
	g := &store.Group{Name: *req.Name, Description: req.Description}
	err := s.St.Write(func(tx *store.Tx) error {
		cp := *g
		if err := tx.CreateGroup(&cp); err != nil {
			return err
		}
		*g = cp
		return tx.AppendAudit(groupAudit(c, "group.created", g.ID, map[string]any{"name": g.Name}))
	})
	if err != nil {
		core.CanvusStoreError(c, err, "Group")
		return
	}
	c.JSON(http.StatusOK, groupJSON(g))
}

func (s *API) DeleteGroup(c *gin.Context) {
	g, ok := s.adminGroupParam(c)
	if !ok {
		return
	}
	err := s.St.Write(func(tx *store.Tx) error {
		if err := tx.DeleteGroup(g.ID); err != nil {
			return err
		}
		return tx.AppendAudit(groupAudit(c, "group.deleted", g.ID, map[string]any{"name": g.Name}))
	})
	if err != nil {
		core.CanvusStoreError(c, err, "Group")
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *API) ListGroupMembers(c *gin.Context) {
	g, ok := s.groupParam(c)
	if !ok {
		return
	}
	var users []*store.User
	if err := s.St.View(func(tx *store.Tx) (err error) { users, err = tx.GroupMembers(g.ID); return }); err != nil {
		core.CanvusStoreError(c, err, "Group")
		return
	}
	out := make([]gin.H, 0, len(users))
	for _, u := range users {
		out = append(out, userJSONFor(core.UserOf(c), u))
	}
	s.respond(c, out, nil)
}

func (s *API) AddGroupMember(c *gin.Context) {
	g, ok := s.adminGroupParam(c)
	if !ok {
		return
	}
	// The reference sends {"id": 100}. Community clients also send
	// {"user_id": "100"}: user_id is taken as another name for id, and a
	// decimal string as the number it spells.
	var req struct {
		ID     json.RawMessage `json:"id"`
		UserID json.RawMessage `json:"user_id"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	raw, field := req.ID, "id"
	if len(raw) == 0 || string(raw) == "null" {
		raw, field = req.UserID, "user_id"
	}
	if len(raw) == 0 || string(raw) == "null" {
		core.CanvusError(c, http.StatusBadRequest, "id is required")
		return
	}
	uid, ok := memberUserID(raw)
	if !ok {
		core.CanvusError(c, http.StatusBadRequest, field+" must be a user id (a positive integer)")
		return
	}
	err := s.St.Write(func(tx *store.Tx) error {
		if err := tx.AddGroupMember(g.ID, uid); err != nil {
			return err
		}
		return tx.AppendAudit(groupAudit(c, "group.member_added", g.ID, map[string]any{"user_id": uid}))
	})
	if storeFailed(c, err, http.StatusNotFound, "User not found", "Group") {
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *API) RemoveGroupMember(c *gin.Context) {
	g, ok := s.adminGroupParam(c)
	if !ok {
		return
	}
	uid, err := strconv.ParseUint(c.Param("uid"), 10, 64)
	if err != nil {
		core.CanvusError(c, http.StatusNotFound, "User not found")
		return
	}
	err = s.St.Write(func(tx *store.Tx) error {
		if _, err := tx.User(uid); err != nil {
			return &core.ReqError{Code: http.StatusNotFound, Msg: "User not found"}
		}
		if err := tx.RemoveGroupMember(g.ID, uid); err != nil {
			return err
		}
		return tx.AppendAudit(groupAudit(c, "group.member_removed", g.ID, map[string]any{"user_id": uid}))
	})
	var re *core.ReqError
	if errors.As(err, &re) {
		core.CanvusError(c, re.Code, re.Msg)
		return
	}
	if storeFailed(c, err, http.StatusNotFound, "User is not a member of this group", "Group") {
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// groupGrant is one entry of "users" or "groups" in a permissions body.
type groupGrant struct {
	ID         *uint64 `json:"id"`
	Permission string  `json:"permission"`
}

// groupGrantsJSON is the "groups" list of a permissions answer, in id order.
func groupGrantsJSON(grants map[uint64]string) []gin.H {
	ids := make([]uint64, 0, len(grants))
	for id := range grants {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]gin.H, 0, len(ids))
	for _, id := range ids {
		out = append(out, gin.H{"id": id, "inherited": false, "permission": grants[id]})
	}
	return out
}

// checkGrantLists validates a permissions body's "users" and then its
// "groups" (400 message, or "").
func checkGrantLists(users, groups []groupGrant) string {
	for _, l := range []struct {
		name   string
		grants []groupGrant
	}{{"users", users}, {"groups", groups}} {
		for _, g := range l.grants {
			if g.ID == nil {
				return l.name + "[].id is required"
			}
			if !store.ValidAccess(g.Permission) {
				return l.name + "[].permission must be none, view, edit or owner"
			}
		}
	}
	return ""
}

// applyUserGrants sets a permissions body's "users" on *m (created when
// needed) inside a write transaction: each user must exist; denied says why
// a grant may not be set (a 403), or ""; the owner's own grant never changes.
func applyUserGrants(tx *store.Tx, m *map[uint64]string, ownerID uint64, grants []groupGrant, denied func(id uint64, perm string) string) error {
	if *m == nil {
		*m = map[uint64]string{}
	}
	for _, p := range grants {
		if _, err := tx.User(*p.ID); err != nil {
			return store.Invalidf("User " + strconv.FormatUint(*p.ID, 10) + " does not exist")
		}
		if msg := denied(*p.ID, p.Permission); msg != "" {
			return &permissionError{msg}
		}
		if *p.ID == ownerID {
			continue // the owner stays owner
		}
		if p.Permission == store.AccessNone {
			delete(*m, *p.ID)
		} else {
			(*m)[*p.ID] = p.Permission
		}
	}
	return nil
}

// writeFailed answers a write that failed (403 for a permissionError, 409
// for a conflictError, else the store error for kind) and says whether it
// did.
func writeFailed(c *gin.Context, err error, kind string) bool {
	if pe, ok := err.(*permissionError); ok {
		core.CanvusError(c, http.StatusForbidden, pe.msg)
		return true
	}
	if ce, ok := err.(*conflictError); ok {
		core.CanvusError(c, http.StatusConflict, ce.msg)
		return true
	}
	if err != nil {
		core.CanvusStoreError(c, err, kind)
		return true
	}
	return false
}

// applyGroupGrants sets grants on *m (created when needed) inside a write
// transaction: each group must exist; a caller that is not an owner (an
// editor allowed to share) may grant, change and remove only view and edit
// grants, as for users (grantDenied).
func applyGroupGrants(tx *store.Tx, m *map[uint64]string, grants []groupGrant, owner bool) error {
	for _, g := range grants {
		if _, err := tx.Group(*g.ID); err != nil {
			return store.Invalidf("Group " + strconv.FormatUint(*g.ID, 10) + " does not exist")
		}
		cur := (*m)[*g.ID]
		if cur == "" {
			cur = store.AccessNone
		}
		if !owner && cur != g.Permission {
			if cur == store.AccessOwner {
				return &permissionError{"Permission denied: only an owner can change an owner's permission"}
			}
			if store.AccessRank(g.Permission) > store.AccessRank(store.AccessEdit) {
				return &permissionError{"Permission denied: only an owner can grant owner"}
			}
		}
		if g.Permission == store.AccessNone {
			delete(*m, *g.ID)
			continue
		}
		if *m == nil {
			*m = map[uint64]string{}
		}
		(*m)[*g.ID] = g.Permission
	}
	return nil
}

// permissionsAudit is the audit event of a change to cv's sharing.
func permissionsAudit(c *gin.Context, cv *store.Canvas) store.AuditEvent {
	return store.AuditEvent{AuthorID: authorOf(c), Action: "canvas.permissions_changed", TargetType: "canvas", TargetID: cv.ID,
		Details: permissionsJSON(cv)}
}

// memberUserID reads a user id given as a JSON integer or as a string of
// decimal digits ("1001"); anything else (a fraction, a negative number,
// "abc", true) is not a user id.
func memberUserID(raw json.RawMessage) (uint64, bool) {
	var n uint64
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, n > 0
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil || str == "" || len(str) > 20 {
		return 0, false
	}
	for _, r := range str {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(str, 10, 64)
	return n, err == nil && n > 0
}

// checkGroupGrants validates a permissions body's "groups" (400 message, or
// ""); a canvas's "users" entries may name a user by e-mail, so
// SetPermissions checks them itself (grantTarget.check).
func checkGroupGrants(grants []groupGrant) string { return checkGrantLists(nil, grants) }
