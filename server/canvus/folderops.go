package canvus

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// Folder move, copy, children and permissions (CanvasFolders_API.md), and
// the automatic names of new canvases (Canvases_API.md).
//
// Folder permissions are inherited: a folder's owner and its users' grants
// apply to every sub-folder and canvas inside it, at any depth, the highest
// right winning (store.Tx.FolderGrants, store.Canvas.Inherited, used by
// store.Canvas.AccessFor and so by every canvas access check).

// newCanvasName is "New canvas", or "New canvas (n)" with the smallest n >= 2
// that no canvas in folder uses yet. A failed read of the canvases is
// returned, not taken for an empty folder.
func newCanvasName(tx *store.Tx, folder string) (string, error) {
	used := map[string]bool{}
	cs, err := tx.Canvases()
	if err != nil {
		return "", fmt.Errorf("name a new canvas: %w", err)
	}
	for _, cv := range cs {
		if cv.FolderID == folder {
			used[cv.Name] = true
		}
	}
	name := "New canvas"
	for n := 2; used[name]; n++ {
		name = "New canvas (" + strconv.Itoa(n) + ")"
	}
	return name, nil
}

// isFixedFolder: a user's home or trash folder, which cannot be moved.
func isFixedFolder(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil || store.IsTrashFolder(id)
}

// folderChildren lists the folders and canvases directly inside folder id.
func folderChildren(tx *store.Tx, id string) ([]*store.Folder, []*store.Canvas, error) {
	fs, err := tx.Folders()
	if err != nil {
		return nil, nil, err
	}
	cs, err := tx.Canvases()
	if err != nil {
		return nil, nil, err
	}
	var subs []*store.Folder
	for _, f := range fs {
		if f.FolderID == id && f.ID != id {
			subs = append(subs, f)
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	var canvases []*store.Canvas
	for _, cv := range cs {
		if cv.FolderID == id {
			canvases = append(canvases, cv)
		}
	}
	return subs, canvases, nil
}

// folderNamed is the folder named name directly inside parent, other than
// except, or nil.
func folderNamed(tx *store.Tx, parent, name, except string) *store.Folder {
	subs, _, _ := folderChildren(tx, parent)
	for _, f := range subs {
		if f.Name == name && f.ID != except {
			return f
		}
	}
	return nil
}

func folderConflict(name string) error {
	return &conflictError{"A folder named '" + name + "' already exists in the destination folder"}
}

// writeFolderOp runs a folder move or copy transaction and answers it.
func (s *API) writeFolderOp(c *gin.Context, fn func(tx *store.Tx) (*store.Folder, error)) {
	u := core.UserOf(c)
	var out *store.Folder
	access := store.AccessOwner
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		f, err := fn(tx)
		if err != nil {
			return err
		}
		out, access = f, s.folderAccess(tx, f, u)
		return nil
	})
	if writeFailed(c, err, "Folder") {
		return
	}
	c.JSON(http.StatusOK, folderJSON(out, access))
}

// MoveFolder is POST /canvas-folders/:fid/move {folder_id, conflicts}. The
// caller must own the folder and may edit the destination. A name conflict
// in the destination: skip (default) merges the folder into the one there,
// leaving behind what would collide; cancel answers 409; replace deletes
// the folder there first. Moving to a trash folder ignores conflicts.
func (s *API) MoveFolder(c *gin.Context) {
	f, ok := s.folderParam(c, true)
	if !ok {
		return
	}
	req, ok := s.parseMove(c)
	if !ok {
		return
	}
	if isFixedFolder(f.ID) {
		core.CanvusError(c, http.StatusBadRequest, "A user's home or trash folder cannot be moved")
		return
	}
	u := core.UserOf(c)
	s.writeFolderOp(c, func(tx *store.Tx) (*store.Folder, error) {
		cur, err := tx.Folder(f.ID)
		if err != nil {
			return nil, err
		}
		dest, err := tx.Folder(req.FolderID)
		if err != nil {
			return nil, store.Invalidf("Folder " + req.FolderID + " does not exist")
		}
		trash := store.IsTrashFolder(dest.ID)
		if trash {
			if dest.ID != "trash."+store.HomeFolderID(u.ID) && !u.Admin {
				return nil, store.Invalidf("You cannot move items to other users' trash folder")
			}
		} else if err := checkFolderTarget(tx, u, dest.ID); err != nil {
			return nil, err
		}
		if tx.FolderWithin(dest.ID, cur.ID) {
			return nil, store.Invalidf("A folder cannot be moved into itself or one of its sub-folders")
		}
		if dest.ID == cur.FolderID {
			return cur, nil
		}
		if other := folderNamed(tx, dest.ID, cur.Name, cur.ID); other != nil && !trash {
			switch req.Conflicts {
			case "cancel":
				return nil, folderConflict(cur.Name)
			case "replace":
				if err := tx.DeleteFolder(other.ID); err != nil {
					return nil, err
				}
			default:
				return other, mergeFolder(tx, cur, other)
			}
		}
		cur.FolderID = dest.ID
		if err := tx.PutFolder(cur); err != nil {
			return nil, err
		}
		return cur, markTrash(tx, cur)
	})
}

// markTrash sets in_trash on f and everything inside it to whether f now
// lies in a trash folder; each canvas whose in_trash changes gets its
// CANVAS_UPDATED.
func markTrash(tx *store.Tx, f *store.Folder) error {
	in := tx.InTrashFolder(f.FolderID)
	if f.InTrash != in {
		f.InTrash = in
		if err := tx.PutFolder(f); err != nil {
			return err
		}
	}
	subs, canvases, err := folderChildren(tx, f.ID)
	if err != nil {
		return err
	}
	for _, cv := range canvases {
		if cv.InTrash != in {
			if err := tx.PutCanvas(cv); err != nil { // PutCanvas sets InTrash from the folder chain
				return err
			}
		}
	}
	for _, sub := range subs {
		if err := markTrash(tx, sub); err != nil {
			return err
		}
	}
	return nil
}

// mergeFolder moves src's content into dst (a folder of the same name):
// sub-folders merge recursively, a canvas whose name dst already has stays
// in src. src is deleted once empty.
func mergeFolder(tx *store.Tx, src, dst *store.Folder) error {
	subs, canvases, err := folderChildren(tx, src.ID)
	if err != nil {
		return err
	}
	left := 0
	for _, sub := range subs {
		if other := folderNamed(tx, dst.ID, sub.Name, sub.ID); other != nil {
			if err := mergeFolder(tx, sub, other); err != nil {
				return err
			}
			if _, err := tx.Folder(sub.ID); err == nil {
				left++
			}
			continue
		}
		sub.FolderID = dst.ID
		if err := tx.PutFolder(sub); err != nil {
			return err
		}
		if err := markTrash(tx, sub); err != nil {
			return err
		}
	}
	for _, cv := range canvases {
		other, err := conflictIn(tx, dst.ID, cv.Name, cv.ID)
		if err != nil {
			return err
		}
		if other != nil {
			left++
			continue
		}
		cv.FolderID = dst.ID
		if err := tx.PutCanvas(cv); err != nil {
			return err
		}
	}
	if left == 0 {
		return tx.DeleteFolder(src.ID)
	}
	return nil
}

// CopyFolder is POST /canvas-folders/:fid/copy {folder_id, conflicts}: a
// deep copy (sub-folders, canvases with their widgets and blobs) owned by
// the caller, who needs view on the folder and edit on the destination.
// Only what the caller can see is copied. Conflicts as MoveFolder; a copy
// into the folder's own parent is named "<name> (copy)".
func (s *API) CopyFolder(c *gin.Context) {
	f, _, ok := s.folderParamAccess(c)
	if !ok {
		return
	}
	req, ok := s.parseMove(c)
	if !ok {
		return
	}
	if f.ID == s.St.RootFolder() {
		core.CanvusError(c, http.StatusBadRequest, "The root folder cannot be copied")
		return
	}
	u := core.UserOf(c)
	s.writeFolderOp(c, func(tx *store.Tx) (*store.Folder, error) {
		src, err := tx.Folder(f.ID)
		if err != nil {
			return nil, err
		}
		if store.IsTrashFolder(req.FolderID) {
			return nil, store.Invalidf("Cannot copy into a trash folder")
		}
		if err := checkFolderTarget(tx, u, req.FolderID); err != nil {
			return nil, err
		}
		if tx.FolderWithin(req.FolderID, src.ID) {
			return nil, store.Invalidf("A folder cannot be copied into itself or one of its sub-folders")
		}
		name := src.Name
		if req.FolderID == src.FolderID {
			name = src.Name + " (copy)"
			for n := 2; folderNamed(tx, req.FolderID, name, "") != nil; n++ {
				name = src.Name + " (copy " + strconv.Itoa(n) + ")"
			}
		} else if other := folderNamed(tx, req.FolderID, name, ""); other != nil {
			switch req.Conflicts {
			case "cancel":
				return nil, folderConflict(name)
			case "replace":
				if err := tx.DeleteFolder(other.ID); err != nil {
					return nil, err
				}
			default:
				return other, copyInto(tx, u, src, other)
			}
		}
		return copyTree(tx, u, src, req.FolderID, name)
	})
}

// copyTree copies src (and what u sees inside it) as a new folder named
// name in parent, owned by u.
func copyTree(tx *store.Tx, u *store.User, src *store.Folder, parent, name string) (*store.Folder, error) {
	dst := &store.Folder{Name: name, FolderID: parent, OwnerID: u.ID}
	if err := tx.PutFolder(dst); err != nil {
		return nil, err
	}
	return dst, copyInto(tx, u, src, dst)
}

// copyInto copies what u sees inside src into dst (but a trash folder): a
// sub-folder whose name dst already has is merged into it, a canvas whose
// name dst already has is skipped.
func copyInto(tx *store.Tx, u *store.User, src, dst *store.Folder) error {
	subs, canvases, err := folderChildren(tx, src.ID)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if store.IsTrashFolder(sub.ID) || tx.FolderAccess(sub, u) == store.AccessNone {
			continue // a home folder's trash is not copied
		}
		if other := folderNamed(tx, dst.ID, sub.Name, ""); other != nil {
			if err := copyInto(tx, u, sub, other); err != nil {
				return err
			}
			continue
		}
		if _, err := copyTree(tx, u, sub, dst.ID, sub.Name); err != nil {
			return err
		}
	}
	for _, cv := range canvases {
		if cv.AccessFor(u) == store.AccessNone {
			continue
		}
		other, err := conflictIn(tx, dst.ID, cv.Name, "")
		if err != nil {
			return err
		}
		if other != nil {
			continue
		}
		if _, err := tx.CopyCanvas(cv.ID, dst.ID, u.ID, cv.Name); err != nil {
			return err
		}
	}
	return nil
}

// DeleteFolderChildren is DELETE /canvas-folders/:fid/children: deletes
// every sub-folder and canvas inside the folder (at any depth), but not the
// folder, and not a user's trash folder inside a home folder.
func (s *API) DeleteFolderChildren(c *gin.Context) {
	f, ok := s.folderParam(c, true)
	if !ok {
		return
	}
	s.writeEmpty(c, "Folder", func(tx *store.Tx) error {
		subs, canvases, err := folderChildren(tx, f.ID)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if store.IsTrashFolder(sub.ID) {
				continue
			}
			if err := tx.DeleteFolder(sub.ID); err != nil {
				return err
			}
		}
		for _, cv := range canvases {
			if err := tx.DeleteCanvas(cv.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// folderPermissionsJSON: the folder's own grants and its owner
// (inherited: false), then what the folders above grant to others
// (inherited: true).
func folderPermissionsJSON(tx *store.Tx, f *store.Folder) gin.H {
	own := map[uint64]string{}
	for id, p := range f.Users {
		own[id] = p
	}
	if f.OwnerID != 0 {
		own[f.OwnerID] = store.AccessOwner
	}
	users, groups := tx.FolderGrants(f.FolderID)
	return gin.H{"editors_can_share": !f.NoEditorsShare, "groups": grantList(f.Groups, groups),
		"users": grantList(own, users)}
}

// grantList is the "users" array of a permissions answer: own grants
// (inherited: false), then inherited ones of users without an own grant,
// each part by id.
func grantList(own, inherited map[uint64]string) []gin.H {
	out := []gin.H{}
	for _, part := range []struct {
		m         map[uint64]string
		inherited bool
	}{{own, false}, {inherited, true}} {
		ids := make([]uint64, 0, len(part.m))
		for id := range part.m {
			if part.inherited && own[id] != "" {
				continue
			}
			ids = append(ids, id)
		}
		sortU64(ids)
		for _, id := range ids {
			out = append(out, gin.H{"id": id, "inherited": part.inherited, "permission": part.m[id]})
		}
	}
	return out
}

func (s *API) GetFolderPermissions(c *gin.Context) {
	f, _, ok := s.folderParamAccess(c)
	if !ok {
		return
	}
	var out gin.H
	if err := s.St.View(func(tx *store.Tx) error { out = folderPermissionsJSON(tx, f); return nil }); err != nil {
		core.CanvusStoreError(c, err, "Folder")
		return
	}
	s.respond(c, out, nil)
}

// SetFolderPermissions is POST /canvas-folders/:fid/permissions. As for a
// canvas: an owner (of the folder or above it, or an admin) may change
// anything; an editor, while editors_can_share is on, may grant, change or
// remove view and edit grants of users who are not owners; viewers nothing.
// The folder's owner stays owner. The root folder's permissions are fixed.
func (s *API) SetFolderPermissions(c *gin.Context) {
	var req struct {
		EditorsCanShare *bool        `json:"editors_can_share"`
		Users           []groupGrant `json:"users"`
		Groups          []groupGrant `json:"groups"`
	}
	f, _, ok := s.folderParamAccess(c)
	if !ok {
		return
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if msg := checkGrantLists(req.Users, req.Groups); msg != "" {
		core.CanvusError(c, http.StatusBadRequest, msg)
		return
	}
	if f.ID == s.St.RootFolder() {
		core.CanvusError(c, http.StatusForbidden, "Permission denied")
		return
	}
	u := core.UserOf(c)
	var out gin.H
	err := s.St.WriteAs(canvasAuthor(c), func(tx *store.Tx) error {
		cur, err := tx.Folder(f.ID)
		if err != nil {
			return err
		}
		access := tx.FolderAccess(cur, u)
		owner := access == store.AccessOwner
		if !owner {
			switch {
			case access != store.AccessEdit:
				return &permissionError{"Permission denied: you may not change the permissions of this folder"}
			case cur.NoEditorsShare:
				return &permissionError{"Permission denied: editors may not share this folder (editors_can_share is off)"}
			case req.EditorsCanShare != nil && *req.EditorsCanShare == cur.NoEditorsShare:
				return &permissionError{"Permission denied: only an owner can change editors_can_share"}
			}
		}
		if req.EditorsCanShare != nil {
			cur.NoEditorsShare = !*req.EditorsCanShare
		}
		grants, _ := tx.FolderGrants(cur.ID)
		denied := func(id uint64, perm string) string {
			switch {
			case id == cur.OwnerID || owner || perm == cur.Users[id]:
				return ""
			case grants[id] == store.AccessOwner:
				return "Permission denied: only an owner can change an owner's permission"
			case store.AccessRank(perm) > store.AccessRank(store.AccessEdit):
				return "Permission denied: only an owner can grant owner"
			}
			return ""
		}
		if err := applyUserGrants(tx, &cur.Users, cur.OwnerID, req.Users, denied); err != nil {
			return err
		}
		if err := applyGroupGrants(tx, &cur.Groups, req.Groups, owner); err != nil {
			return err
		}
		if err := tx.PutFolder(cur); err != nil {
			return err
		}
		out = folderPermissionsJSON(tx, cur)
		return tx.AppendAudit(store.AuditEvent{AuthorID: authorOf(c), Action: "folder.permissions_changed", TargetType: "folder", TargetID: cur.ID, Details: out})
	})
	if writeFailed(c, err, "Folder") {
		return
	}
	c.JSON(http.StatusOK, out)
}
