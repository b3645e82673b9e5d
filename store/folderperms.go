package store

// FolderGrants is what folder id and every folder above it grant: each
// folder's owner as owner and each of its users' grants, the highest right
// winning. A canvas inherits its folder's grants (Canvas.Inherited), a
// folder those of the folders above it. An unknown id grants nothing.
func (t *Tx) FolderGrants(id string) map[uint64]string {
	var out map[uint64]string
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		seen[id] = true
		f, err := t.Folder(id)
		if err != nil {
			break
		}
		if out == nil {
			out = map[uint64]string{}
		}
		if f.OwnerID != 0 && f.OwnerID != GuestUserID {
			out[f.OwnerID] = AccessOwner
		}
		for uid, p := range f.Users {
			if uid != GuestUserID && AccessRank(p) > AccessRank(out[uid]) {
				out[uid] = p
			}
		}
		id = f.FolderID
	}
	return out
}

// FolderAccess is user u's right on folder f: owner for an admin, else the
// highest of what f and the folders above it grant u (AccessNone if
// nothing). The guest and anonymous callers get none.
func (t *Tx) FolderAccess(f *Folder, u *User) string {
	if u == nil || u.ID == GuestUserID {
		return AccessNone
	}
	if u.Admin {
		return AccessOwner
	}
	if p := t.FolderGrants(f.ID)[u.ID]; p != "" {
		return p
	}
	return AccessNone
}

// FolderWithin reports whether folder id is ancestor or one of its
// sub-folders (at any depth).
func (t *Tx) FolderWithin(id, ancestor string) bool {
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		if id == ancestor {
			return true
		}
		seen[id] = true
		f, err := t.Folder(id)
		if err != nil {
			return false
		}
		id = f.FolderID
	}
	return false
}
