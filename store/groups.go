package store

import (
	"slices"
	"strings"
)

// AllUsersGroupID is the built-in group every signed-in user belongs to.
// It is not stored: it cannot be renamed, deleted or given members, and a
// grant to it applies to every user but the guest.
const AllUsersGroupID uint64 = 1

// FirstGroupID is the id of the first group an admin creates.
const FirstGroupID uint64 = 1000

// Group is a user group. Members are recorded on the users (User.Groups).
type Group struct {
	ID          uint64 `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

var allUsersGroup = Group{ID: AllUsersGroupID, Name: "All Users", Description: "All users on this server."}

// Groups lists every group, All Users first, then in id order.
func (t *Tx) Groups() ([]*Group, error) {
	g := allUsersGroup
	out := []*Group{&g}
	b := t.btx.Bucket(bucketGroups)
	err := b.ForEach(func(k, _ []byte) error {
		g := &Group{}
		if err := getJSON(b, k, g); err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

// Group returns a group by id (ErrNotFound when there is none).
func (t *Tx) Group(id uint64) (*Group, error) {
	if id == AllUsersGroupID {
		g := allUsersGroup
		return &g, nil
	}
	g := &Group{}
	if err := getJSON(t.btx.Bucket(bucketGroups), itob(id), g); err != nil {
		return nil, err
	}
	return g, nil
}

// CreateGroup stores a new group with the next id. The name is required
// and unique (case-insensitive, All Users included).
func (t *Tx) CreateGroup(g *Group) error {
	t.authChanged() // ?subscribe streams of /groups re-read on AuthGen moves
	name := strings.TrimSpace(g.Name)
	if name == "" {
		return Invalidf("name is required")
	}
	all, err := t.Groups()
	if err != nil {
		return err
	}
	for _, o := range all {
		if strings.EqualFold(o.Name, name) {
			return &InvalidError{Msg: "A group with this name already exists"}
		}
	}
	meta := t.btx.Bucket(bucketMeta)
	id := FirstGroupID
	if v := meta.Get(metaNextGroup); v != nil {
		id = btoi(v)
	}
	if err := meta.Put(metaNextGroup, itob(id+1)); err != nil {
		return err
	}
	g.ID, g.Name = id, name
	return putJSON(t.btx.Bucket(bucketGroups), itob(id), g)
}

// DeleteGroup removes a group, its memberships and every canvas and folder
// grant to it. All Users cannot be deleted.
func (t *Tx) DeleteGroup(id uint64) error {
	t.authChanged()
	if id == AllUsersGroupID {
		return Invalidf("The All Users group cannot be deleted")
	}
	if _, err := t.Group(id); err != nil {
		return err
	}
	users, err := t.Users()
	if err != nil {
		return err
	}
	for _, u := range users {
		if i := slices.Index(u.Groups, id); i >= 0 {
			u.Groups = slices.Delete(u.Groups, i, i+1)
			if err := t.PutUser(u); err != nil {
				return err
			}
		}
	}
	canvases, err := t.Canvases()
	if err != nil {
		return err
	}
	for _, c := range canvases {
		if _, ok := c.Groups[id]; ok {
			delete(c.Groups, id)
			if err := t.PutCanvas(c); err != nil {
				return err
			}
		}
	}
	folders, err := t.Folders()
	if err != nil {
		return err
	}
	for _, f := range folders {
		if _, ok := f.Groups[id]; ok {
			delete(f.Groups, id)
			if err := t.PutFolder(f); err != nil {
				return err
			}
		}
	}
	return t.btx.Bucket(bucketGroups).Delete(itob(id))
}

// AddGroupMember makes user uid a member of group gid (no change when they
// already are).
func (t *Tx) AddGroupMember(gid, uid uint64) error {
	if gid == AllUsersGroupID {
		return Invalidf("Every user is a member of All Users")
	}
	if _, err := t.Group(gid); err != nil {
		return err
	}
	u, err := t.User(uid)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(u.Groups, gid)
	if found {
		return nil
	}
	u.Groups = slices.Insert(u.Groups, i, gid)
	return t.PutUser(u)
}

// RemoveGroupMember removes user uid from group gid: ErrNotFound when the
// group or user does not exist or the user is not a member.
func (t *Tx) RemoveGroupMember(gid, uid uint64) error {
	if gid == AllUsersGroupID {
		return Invalidf("Every user is a member of All Users")
	}
	if _, err := t.Group(gid); err != nil {
		return err
	}
	u, err := t.User(uid)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(u.Groups, gid)
	if !found {
		return ErrNotFound
	}
	u.Groups = slices.Delete(u.Groups, i, i+1)
	return t.PutUser(u)
}

// GroupMembers lists the members of group gid in id order (every user but
// the guest for All Users).
func (t *Tx) GroupMembers(gid uint64) ([]*User, error) {
	if _, err := t.Group(gid); err != nil {
		return nil, err
	}
	users, err := t.Users()
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for _, u := range users {
		if gid == AllUsersGroupID && u.ID != GuestUserID || slices.Contains(u.Groups, gid) {
			out = append(out, u)
		}
	}
	return out, nil
}

// AccessFor returns the access user u has on folder f: owner for its owner
// and admins, else the best of u's own grant and u's groups' grants (none
// for the guest and anonymous callers).
func (f *Folder) AccessFor(u *User) string {
	if u == nil || u.ID == GuestUserID {
		return AccessNone
	}
	if u.Admin || u.ID == f.OwnerID {
		return AccessOwner
	}
	best := AccessNone
	if p, ok := f.Users[u.ID]; ok && AccessRank(p) > AccessRank(best) {
		best = p
	}
	if p := GroupAccess(f.Groups, u); AccessRank(p) > AccessRank(best) {
		best = p
	}
	return best
}
