package canvus

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func folderJSON(f *store.Folder, access string) gin.H {
	return gin.H{"access": access, "folder_id": f.FolderID, "id": f.ID, "in_trash": f.InTrash, "name": f.Name, "state": "normal"}
}

// folderAccess is u's right on f as the folder routes show and check it:
// what f and the folders above it grant (core of store.Tx.FolderAccess),
// and view on the root folder for everyone signed in.
func (s *API) folderAccess(tx *store.Tx, f *store.Folder, u *store.User) string {
	a := tx.FolderAccess(f, u)
	if a == store.AccessNone && f.ID == s.St.RootFolder() {
		a = store.AccessView
	}
	return a
}

func canvasJSON(cv *store.Canvas, access string) map[string]any {
	m := cv.Public()
	m["access"] = access
	return m
}

func (s *API) ListFolders(c *gin.Context) {
	u := core.UserOf(c)
	out := []gin.H{}
	if err := s.St.View(func(tx *store.Tx) error {
		fs, err := tx.Folders()
		if err != nil {
			return err
		}
		for _, f := range fs {
			if a := s.folderAccess(tx, f, u); a != store.AccessNone {
				out = append(out, folderJSON(f, a))
			}
		}
		return nil
	}); err != nil {
		core.CanvusStoreError(c, err, "Folder")
		return
	}
	s.respond(c, out, nil)
}

// folderParam resolves :fid with the caller's right on it; write=true
// requires ownership (or admin) and refuses the root folder.
func (s *API) folderParam(c *gin.Context, write bool) (*store.Folder, bool) {
	f, access, ok := s.folderParamAccess(c)
	if !ok {
		return nil, false
	}
	if write && (access != store.AccessOwner || f.ID == s.St.RootFolder()) {
		core.CanvusError(c, http.StatusForbidden, "Permission denied")
		return nil, false
	}
	return f, true
}

// folderParamAccess resolves :fid and the caller's right on it; a caller
// with no right gets 403.
func (s *API) folderParamAccess(c *gin.Context) (*store.Folder, string, bool) {
	var f *store.Folder
	access := store.AccessNone
	u := core.UserOf(c)
	if err := s.St.View(func(tx *store.Tx) (err error) {
		if f, err = tx.Folder(c.Param("fid")); err == nil {
			access = s.folderAccess(tx, f, u)
		}
		return
	}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			core.CanvusError(c, http.StatusNotFound, "Folder not found")
		} else {
			core.CanvusStoreError(c, err, "Folder")
		}
		return nil, "", false
	}
	if access == store.AccessNone {
		core.CanvusError(c, http.StatusForbidden, "Permission denied")
		return nil, "", false
	}
	return f, access, true
}

// checkFolderTarget verifies the caller may put things into folder id.
func checkFolderTarget(tx *store.Tx, u *store.User, id string) error {
	f, err := tx.Folder(id)
	if err != nil {
		return store.Invalidf("Folder " + id + " does not exist")
	}
	if store.AccessRank(tx.FolderAccess(f, u)) < store.AccessRank(store.AccessEdit) {
		return store.ErrForbidden
	}
	return nil
}

func (s *API) GetFolder(c *gin.Context) {
	if f, access, ok := s.folderParamAccess(c); ok {
		s.respond(c, folderJSON(f, access), nil)
	}
}

func (s *API) CreateFolder(c *gin.Context) {
	req, u, ok := readNameInFolder(c)
	if !ok {
		return
	}
	if req.Name == "" {
		req.Name = "New folder"
	}
	f := &store.Folder{Name: req.Name, FolderID: req.FolderID, OwnerID: u.ID, InTrash: store.IsTrashFolder(req.FolderID)}
	s.writeOwnFolder(c, func(tx *store.Tx) (*store.Folder, error) {
		if err := checkFolderTarget(tx, u, req.FolderID); err != nil {
			return nil, err
		}
		f.ID = ""
		f.InTrash = tx.InTrashFolder(req.FolderID)
		return f, tx.PutFolder(f)
	})
}

// writeOwnFolder runs fn in a write transaction and answers the folder it
// wrote as its owner sees it.
func (s *API) writeOwnFolder(c *gin.Context, fn func(tx *store.Tx) (*store.Folder, error)) {
	var out *store.Folder
	if s.write(c, "Folder", func(tx *store.Tx) (err error) { out, err = fn(tx); return }) {
		c.JSON(http.StatusOK, folderJSON(out, store.AccessOwner))
	}
}

func (s *API) PatchFolder(c *gin.Context) {
	f, ok := s.folderParam(c, true)
	if !ok {
		return
	}
	var req struct {
		Name *string `json:"name"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	s.writeOwnFolder(c, func(tx *store.Tx) (*store.Folder, error) {
		cur, err := tx.Folder(f.ID)
		if err != nil {
			return nil, err
		}
		if req.Name != nil {
			cur.Name = *req.Name
		}
		return cur, tx.PutFolder(cur)
	})
}

func (s *API) DeleteFolder(c *gin.Context) {
	f, ok := s.folderParam(c, true)
	if !ok {
		return
	}
	if _, err := strconv.ParseUint(f.ID, 10, 64); err == nil || store.IsTrashFolder(f.ID) {
		core.CanvusError(c, http.StatusBadRequest, "A user's home or trash folder cannot be deleted")
		return
	}
	s.writeEmpty(c, "Folder", func(tx *store.Tx) error { return tx.DeleteFolder(f.ID) })
}

func (s *API) ListCanvases(c *gin.Context) {
	list, err := s.canvasList(core.UserOf(c))
	if err != nil {
		core.CanvusStoreError(c, err, "Canvas")
		return
	}
	s.respond(c, list, &streamSpec{topic: core.CanvasListTopic, list: true, kind: "canvas"})
}

// canvasList is the canvases u can see; a store read error is returned,
// never an empty list.
func (s *API) canvasList(u *store.User) ([]map[string]any, error) {
	var cs []*store.Canvas
	if err := s.St.View(func(tx *store.Tx) (err error) { cs, err = tx.Canvases(); return }); err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(cs))
	for _, cv := range cs {
		if a := cv.AccessFor(u); a != store.AccessNone {
			out = append(out, canvasJSON(cv, a))
		}
	}
	return out, nil
}

func (s *API) CreateCanvas(c *gin.Context) {
	req, u, ok := readNameInFolder(c)
	if !ok {
		return
	}
	if len(req.Name) > 256 {
		core.CanvusError(c, http.StatusBadRequest, "Canvas name is too long (at most 256 characters)")
		return
	}
	cv := &store.Canvas{}
	if !s.write(c, "Canvas", func(tx *store.Tx) error {
		if err := checkFolderTarget(tx, u, req.FolderID); err != nil {
			return err
		}
		name := req.Name
		if name == "" {
			name = newCanvasName(tx, req.FolderID) // folderops.go
		}
		*cv = store.Canvas{Name: name, FolderID: req.FolderID, OwnerID: u.ID, EditorsCanShare: true}
		return tx.CreateCanvas(cv)
	}) {
		return
	}
	c.JSON(http.StatusOK, canvasJSON(cv, store.AccessOwner))
}

func (s *API) GetCanvas(c *gin.Context) {
	cv := core.CanvasOf(c)
	s.respond(c, canvasJSON(cv, core.AccessOf(c)), &streamSpec{topic: cv.ID, kind: "canvas", id: cv.ID})
}

func (s *API) CanvasOwner(c *gin.Context) {
	if core.AccessOf(c) != store.AccessOwner {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: owner access required")
	}
}

func (s *API) PatchCanvas(c *gin.Context) {
	var req struct {
		Name     *string `json:"name"`
		Mode     *string `json:"mode"`
		FolderID *string `json:"folder_id"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if req.Mode != nil && *req.Mode != "normal" && *req.Mode != "demo" {
		core.CanvusError(c, http.StatusBadRequest, "mode must be 'normal' or 'demo'")
		return
	}
	if req.Name != nil && (strings.TrimSpace(*req.Name) == "" || len(*req.Name) > 256) {
		core.CanvusError(c, http.StatusBadRequest, "Canvas name must be 1 to 256 characters")
		return
	}
	if req.FolderID != nil && core.AccessOf(c) != store.AccessOwner {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: owner access required to move")
		return
	}
	u := core.UserOf(c)
	var out *store.Canvas
	if !s.write(c, "Canvas", func(tx *store.Tx) error {
		cur, err := tx.Canvas(core.CanvasOf(c).ID)
		if err != nil {
			return err
		}
		if req.Name != nil {
			cur.Name = *req.Name
		}
		if req.Mode != nil {
			if *req.Mode == "demo" && cur.Mode != "demo" {
				// A canvas becoming a demo canvas saves its state (demo.go).
				if err := tx.SaveDemoState(cur.ID); err != nil {
					return err
				}
			}
			cur.Mode = *req.Mode
		}
		if req.FolderID != nil {
			if err := checkFolderTarget(tx, u, *req.FolderID); err != nil {
				return err
			}
			cur.FolderID = *req.FolderID
		}
		out = cur
		return tx.PutCanvas(cur)
	}) {
		return
	}
	c.JSON(http.StatusOK, canvasJSON(out, core.AccessOf(c)))
}

func (s *API) DeleteCanvas(c *gin.Context) {
	s.writeEmpty(c, "Canvas", func(tx *store.Tx) error { return tx.DeleteCanvas(core.CanvasOf(c).ID) })
}

type moveReq struct {
	FolderID  string `json:"folder_id"`
	Conflicts string `json:"conflicts"`
}

func (s *API) parseMove(c *gin.Context) (moveReq, bool) {
	var req moveReq
	if !core.CanvusJSON(c, &req) {
		return req, false
	}
	if req.FolderID == "" {
		core.CanvusError(c, http.StatusBadRequest, "folder_id is required")
		return req, false
	}
	switch req.Conflicts {
	case "", "skip", "cancel", "replace":
	default:
		core.CanvusError(c, http.StatusBadRequest, "conflicts must be skip, cancel or replace")
		return req, false
	}
	return req, true
}

// conflictIn finds a canvas named name in folder other than id.
func conflictIn(tx *store.Tx, folder, name, id string) *store.Canvas {
	cs, _ := tx.Canvases()
	for _, cv := range cs {
		if cv.FolderID == folder && cv.Name == name && cv.ID != id {
			return cv
		}
	}
	return nil
}

func (s *API) MoveCanvas(c *gin.Context) {
	req, ok := s.parseMove(c)
	if !ok {
		return
	}
	u := core.UserOf(c)
	var out *store.Canvas
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		cur, err := tx.Canvas(core.CanvasOf(c).ID)
		if err != nil {
			return err
		}
		if store.IsTrashFolder(req.FolderID) {
			if req.FolderID != "trash."+store.HomeFolderID(u.ID) && !u.Admin {
				return store.Invalidf("You cannot move items to other users' trash folder")
			}
		} else {
			if err := checkFolderTarget(tx, u, req.FolderID); err != nil {
				return err
			}
			if other := conflictIn(tx, req.FolderID, cur.Name, cur.ID); other != nil {
				if req.Conflicts != "replace" {
					return &conflictError{"A canvas named '" + cur.Name + "' already exists in the destination folder"}
				}
				if err := tx.DeleteCanvas(other.ID); err != nil {
					return err
				}
			}
		}
		cur.FolderID = req.FolderID
		out = cur
		return tx.PutCanvas(cur)
	})
	if writeFailed(c, err, "Canvas") {
		return
	}
	c.JSON(http.StatusOK, canvasJSON(out, core.AccessOf(c)))
}

type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }

func (s *API) CopyCanvas(c *gin.Context) {
	req, ok := s.parseMove(c)
	if !ok {
		return
	}
	u := core.UserOf(c)
	if u == nil {
		core.CanvusError(c, http.StatusUnauthorized, "Missing access token")
		return
	}
	var out *store.Canvas
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		src, err := tx.Canvas(core.CanvasOf(c).ID)
		if err != nil {
			return err
		}
		if err := checkFolderTarget(tx, u, req.FolderID); err != nil {
			return err
		}
		name := src.Name
		if other := conflictIn(tx, req.FolderID, name, ""); other != nil {
			switch {
			case req.FolderID == src.FolderID:
				name = src.Name + " (copy)"
			case req.Conflicts == "replace":
				if err := tx.DeleteCanvas(other.ID); err != nil {
					return err
				}
			default:
				return &conflictError{"A canvas named '" + name + "' already exists in the destination folder"}
			}
		}
		out, err = tx.CopyCanvas(src.ID, req.FolderID, u.ID, name)
		return err
	})
	if writeFailed(c, err, "Canvas") {
		return
	}
	c.JSON(http.StatusOK, canvasJSON(out, store.AccessOwner))
}

// permissionsJSON: the canvas's own grants and its owner (inherited:
// false), then what its folders grant to others (inherited: true).
func permissionsJSON(cv *store.Canvas) gin.H {
	own := map[uint64]string{}
	for id, p := range cv.Users {
		own[id] = p
	}
	own[cv.OwnerID] = store.AccessOwner
	return gin.H{"editors_can_share": cv.EditorsCanShare, "groups": grantList(cv.Groups, cv.InheritedGroups), "link_permission": cv.LinkPermission, "users": grantList(own, cv.Inherited)}
}

func sortU64(a []uint64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (s *API) GetPermissions(c *gin.Context) {
	cv := core.CanvasOf(c)
	s.respond(c, permissionsJSON(cv), nil)
}

func (s *API) SetPermissions(c *gin.Context) {
	var req struct {
		EditorsCanShare *bool        `json:"editors_can_share"`
		LinkPermission  *string      `json:"link_permission"`
		Users           []groupGrant `json:"users"`
		Groups          []groupGrant `json:"groups"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	cv := core.CanvasOf(c)
	if req.LinkPermission != nil {
		switch *req.LinkPermission {
		case store.AccessNone, store.AccessView, store.AccessEdit:
		default:
			core.CanvusError(c, http.StatusBadRequest, "link_permission must be none, view or edit")
			return
		}
	}
	if msg := checkGrantLists(req.Users, req.Groups); msg != "" {
		core.CanvusError(c, http.StatusBadRequest, msg)
		return
	}
	if msg := sharingDenied(cv, core.UserOf(c), core.AccessOf(c) == store.AccessOwner, req.EditorsCanShare, req.LinkPermission); msg != "" {
		core.CanvusError(c, http.StatusForbidden, msg)
		return
	}
	var out *store.Canvas
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		cur, err := tx.Canvas(cv.ID)
		if err != nil {
			return err
		}
		// Checked again on the canvas as it is now: it may have changed
		// since the access check.
		if msg := sharingDenied(cur, core.UserOf(c), cur.AccessFor(core.UserOf(c)) == store.AccessOwner, req.EditorsCanShare, req.LinkPermission); msg != "" {
			return &permissionError{msg}
		}
		owner := cur.AccessFor(core.UserOf(c)) == store.AccessOwner
		if req.EditorsCanShare != nil {
			cur.EditorsCanShare = *req.EditorsCanShare
		}
		if req.LinkPermission != nil {
			cur.LinkPermission = *req.LinkPermission
		}
		denied := func(id uint64, perm string) string { return grantDenied(cur, owner, id, perm) }
		if err := applyUserGrants(tx, &cur.Users, cur.OwnerID, req.Users, denied); err != nil {
			return err
		}
		if err := applyGroupGrants(tx, &cur.Groups, req.Groups, owner); err != nil {
			return err
		}
		out = cur
		if err := tx.PutCanvas(cur); err != nil {
			return err
		}
		return tx.AppendAudit(permissionsAudit(c, cur))
	})
	if writeFailed(c, err, "Canvas") {
		return
	}
	c.JSON(http.StatusOK, permissionsJSON(out))
}

// Who may change a canvas's sharing (POST /permissions):
//   - An owner (the canvas's owner, a named owner, an admin) may change
//     anything: every grant (owner included), link_permission and
//     editors_can_share. The canvas's owner always stays owner.
//   - An editor by a named grant may, while editors_can_share is on, grant,
//     change or remove view and edit grants of users who are not owners. An
//     editor can never grant owner, lower or remove an owner, or change
//     link_permission or editors_can_share.
//   - Anyone whose edit right comes only from link_permission=edit (a guest,
//     or a signed-in user with at most a named view grant) may change nothing:
//     a right that comes from the link is never written down as a named grant.
//   - Viewers may change nothing.
//
// A field or grant sent with the value it already has is no change and is
// allowed, so that a client may post back what GET /permissions gave it.

// permissionError carries a 403 message out of a store transaction.
type permissionError struct{ msg string }

func (e *permissionError) Error() string { return e.msg }

// sharingDenied says why user u (owner: u's right is owner) may not make
// this change to cv's sharing settings, or "".
func sharingDenied(cv *store.Canvas, u *store.User, owner bool, editorsCanShare *bool, link *string) string {
	if owner {
		return ""
	}
	if u == nil || u.ID == store.GuestUserID || store.AccessRank(cv.Users[u.ID]) < store.AccessRank(store.AccessEdit) {
		return "Permission denied: you may not change the permissions of this canvas (an edit right that comes from the shared link does not allow sharing)"
	}
	if !cv.EditorsCanShare {
		return "Permission denied: editors may not share this canvas (editors_can_share is off)"
	}
	if editorsCanShare != nil && *editorsCanShare != cv.EditorsCanShare {
		return "Permission denied: only an owner can change editors_can_share"
	}
	if link != nil && *link != cv.LinkPermission {
		return "Permission denied: only an owner can change link_permission"
	}
	return ""
}

// grantDenied says why a caller (owner or an editor that passed
// sharingDenied) may not set user id's grant on cv to perm, or "".
func grantDenied(cv *store.Canvas, owner bool, id uint64, perm string) string {
	cur := cv.Users[id]
	if id == cv.OwnerID {
		cur = store.AccessOwner
	} else if cur == "" {
		cur = store.AccessNone
	}
	if owner || cur == perm {
		return ""
	}
	if cur == store.AccessOwner {
		return "Permission denied: only an owner can change an owner's permission"
	}
	if store.AccessRank(perm) > store.AccessRank(store.AccessEdit) {
		return "Permission denied: only an owner can grant owner"
	}
	return ""
}
