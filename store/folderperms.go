package store

// FolderGrants is what folder id and every folder above it grant: users
// (each folder's owner as owner, and its user grants) and groups (its group
// grants), the highest right winning. A canvas inherits its folder's grants
// (Canvas.Inherited, Canvas.InheritedGroups), a folder those of the folders
// above it. An unknown id grants nothing.
func (t *Tx) FolderGrants(id string) (users, groups map[uint64]string) {
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		seen[id] = true
		f, err := t.Folder(id)
		if err != nil {
			break
		}
		if users == nil {
			users = map[uint64]string{}
		}
		if f.OwnerID != 0 && f.OwnerID != GuestUserID {
			users[f.OwnerID] = AccessOwner
		}
		for uid, p := range f.Users {
			if uid != GuestUserID && AccessRank(p) > AccessRank(users[uid]) {
				users[uid] = p
			}
		}
		for gid, p := range f.Groups {
			if groups == nil {
				groups = map[uint64]string{}
			}
			if AccessRank(p) > AccessRank(groups[gid]) {
				groups[gid] = p
			}
		}
		id = f.FolderID
	}
	return users, groups
}

// FolderAccess is user u's right on folder f: owner for an admin, else the
// highest of what f and the folders above it grant u, directly or through
// its groups (AccessNone if nothing). The guest and anonymous callers get
// none. It is Folder.AccessFor with inheritance.
func (t *Tx) FolderAccess(f *Folder, u *User) string {
	if u == nil || u.ID == GuestUserID {
		return AccessNone
	}
	if u.Admin {
		return AccessOwner
	}
	users, groups := t.FolderGrants(f.ID)
	best := AccessNone
	if p := users[u.ID]; AccessRank(p) > AccessRank(best) {
		best = p
	}
	if p := GroupAccess(groups, u); AccessRank(p) > AccessRank(best) {
		best = p
	}
	return best
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

// InTrashFolder reports whether folder id is a trash folder or inside one:
// what is put in it is in the trash.
func (t *Tx) InTrashFolder(id string) bool {
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		if IsTrashFolder(id) {
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
