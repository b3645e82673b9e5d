package store

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
)

// TimeFormat is how the Canvus API writes timestamps.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t the Canvus way, or "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// PutFolder creates or replaces a folder.
func (t *Tx) PutFolder(f *Folder) error {
	t.authChanged() // folder grants are inherited by the canvases inside
	if f.ID == "" {
		f.ID = uuid.NewString()
	}
	return putJSON(t.btx.Bucket(bucketFolders), []byte(f.ID), f)
}

// Folder returns a folder by id.
func (t *Tx) Folder(id string) (*Folder, error) {
	f := &Folder{}
	if err := getJSON(t.btx.Bucket(bucketFolders), []byte(id), f); err != nil {
		return nil, err
	}
	return f, nil
}

// Folders lists every folder.
func (t *Tx) Folders() ([]*Folder, error) {
	var out []*Folder
	err := t.btx.Bucket(bucketFolders).ForEach(func(k, v []byte) error {
		f := &Folder{}
		if err := getJSON(t.btx.Bucket(bucketFolders), k, f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// DeleteFolder deletes a folder with its subfolders and canvases.
func (t *Tx) DeleteFolder(id string) error {
	if _, err := t.Folder(id); err != nil {
		return err
	}
	if err := t.DeleteFolderChildren(id); err != nil {
		return err
	}
	t.authChanged()
	return t.btx.Bucket(bucketFolders).Delete([]byte(id))
}

// DeleteFolderChildren deletes everything inside a folder but the folder.
func (t *Tx) DeleteFolderChildren(id string) error {
	folders, err := t.Folders()
	if err != nil {
		return err
	}
	for _, f := range folders {
		if f.FolderID == id && f.ID != id {
			if err := t.DeleteFolder(f.ID); err != nil {
				return err
			}
		}
	}
	canvases, err := t.Canvases()
	if err != nil {
		return err
	}
	for _, c := range canvases {
		if c.FolderID == id {
			if err := t.DeleteCanvas(c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// IsTrashFolder reports whether id names a trash folder.
func IsTrashFolder(id string) bool { return len(id) > 6 && id[:6] == "trash." }

// CanvasPublic is the Canvus JSON of a canvas without the per-user access field.
func (c *Canvas) Public() map[string]any {
	return map[string]any{
		"asset_size":   c.AssetSize,
		"created_at":   FormatTime(c.CreatedAt),
		"folder_id":    c.FolderID,
		"id":           c.ID,
		"in_trash":     c.InTrash,
		"mode":         c.Mode,
		"modified_at":  FormatTime(c.ModifiedAt),
		"name":         c.Name,
		"preview_hash": "",
		"state":        "normal",
	}
}

// CreateCanvas stores a new canvas with its SharedCanvas root widget and
// appends its first event.
func (t *Tx) CreateCanvas(c *Canvas) error {
	t.authChanged()
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if c.Mode == "" {
		c.Mode = "normal"
	}
	if c.LinkPermission == "" {
		c.LinkPermission = AccessNone
	}
	c.CreatedAt, c.ModifiedAt = t.now, t.now
	root := &Widget{ID: uuid.NewString(), CanvasID: c.ID, Type: "SharedCanvas", Props: map[string]any{
		"location": map[string]any{"x": 0.0, "y": 0.0},
		"size":     map[string]any{"width": 10000.0, "height": 10000.0},
		"scale":    1.0, "depth": 0.0, "pinned": true, "state": "normal", "parent_id": "",
	}}
	c.RootWidget = root.ID
	if _, err := t.btx.Bucket(bucketWidgets).CreateBucket([]byte(c.ID)); err != nil {
		return fmt.Errorf("create canvas: %w", err)
	}
	if err := putJSON(t.widgets(c.ID), []byte(root.ID), root); err != nil {
		return err
	}
	return t.PutCanvas(c)
}

// PutCanvas stores a canvas and appends CANVAS_UPDATED.
func (t *Tx) PutCanvas(c *Canvas) error {
	t.authChanged()
	c.ModifiedAt = t.now
	c.InTrash = t.InTrashFolder(c.FolderID)
	if err := putJSON(t.btx.Bucket(bucketCanvases), []byte(c.ID), c); err != nil {
		return err
	}
	_, err := t.AppendEvent(c.ID, EvCanvasUpdated, map[string]any{"canvas": c.Public()})
	return err
}

// Canvas returns a canvas by id.
func (t *Tx) Canvas(id string) (*Canvas, error) {
	c := &Canvas{}
	if err := getJSON(t.btx.Bucket(bucketCanvases), []byte(id), c); err != nil {
		return nil, err
	}
	c.guestBlocked = t.GuestBlocked()
	c.Inherited, c.InheritedGroups = t.FolderGrants(c.FolderID)
	return c, nil
}

// Canvases lists every canvas, oldest first.
func (t *Tx) Canvases() ([]*Canvas, error) {
	var out []*Canvas
	guestBlocked := t.GuestBlocked()
	type grants struct{ users, groups map[uint64]string }
	inherited := map[string]grants{}
	err := t.btx.Bucket(bucketCanvases).ForEach(func(k, v []byte) error {
		c := &Canvas{}
		if err := getJSON(t.btx.Bucket(bucketCanvases), k, c); err != nil {
			return err
		}
		c.guestBlocked = guestBlocked
		g, ok := inherited[c.FolderID]
		if !ok {
			g.users, g.groups = t.FolderGrants(c.FolderID)
			inherited[c.FolderID] = g
		}
		c.Inherited, c.InheritedGroups = g.users, g.groups
		out = append(out, c)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// DeleteCanvas deletes a canvas, its widgets (releasing their blobs) and its
// log. The CANVAS_DELETED event is delivered live but not kept.
func (t *Tx) DeleteCanvas(id string) error {
	t.authChanged()
	c, err := t.Canvas(id)
	if err != nil {
		return err
	}
	ws, err := t.Widgets(id)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if err := t.releaseWidgetBlobs(w); err != nil {
			return err
		}
	}
	if c.BackgroundBlob != "" {
		if err := t.ReleaseBlob(c.BackgroundBlob); err != nil {
			return err
		}
	}
	if err := t.btx.Bucket(bucketWidgets).DeleteBucket([]byte(id)); err != nil {
		return err
	}
	if vb := t.btx.Bucket(bucketWidgetSeq); vb.Bucket([]byte(id)) != nil {
		if err := vb.DeleteBucket([]byte(id)); err != nil {
			return err
		}
	}
	if err := t.btx.Bucket(bucketCanvases).Delete([]byte(id)); err != nil {
		return err
	}
	if err := t.dropDemoState(id); err != nil {
		return err
	}
	pub := c.Public()
	pub["state"] = "deleted"
	if _, err := t.AppendEvent(id, EvCanvasDeleted, map[string]any{"canvas": pub}); err != nil {
		return err
	}
	if ab := t.btx.Bucket(bucketEventAuthors); ab.Bucket([]byte(id)) != nil {
		if err := ab.DeleteBucket([]byte(id)); err != nil {
			return err
		}
	}
	// The log goes with the canvas; the audit log keeps that it went.
	if err := t.AppendAudit(AuditEvent{AuthorID: t.author, Action: "canvas.deleted", TargetType: "canvas", TargetID: id,
		Details: map[string]any{"name": c.Name}}); err != nil {
		return err
	}
	return t.btx.Bucket(bucketEvents).DeleteBucket([]byte(id))
}

// CopyCanvas copies src with all its widgets into folder, owned by owner.
func (t *Tx) CopyCanvas(srcID, folderID string, owner uint64, name string) (*Canvas, error) {
	t.authChanged()
	src, err := t.Canvas(srcID)
	if err != nil {
		return nil, err
	}
	ws, err := t.Widgets(srcID)
	if err != nil {
		return nil, err
	}
	dst := &Canvas{Name: name, Mode: src.Mode, FolderID: folderID, OwnerID: owner, LinkPermission: AccessNone, EditorsCanShare: src.EditorsCanShare}
	if src.Background != nil {
		dst.Background = deepCopy(src.Background).(map[string]any)
	}
	if src.BackgroundBlob != "" {
		if err := t.AddBlobRef(src.BackgroundBlob); err != nil {
			return nil, err
		}
		dst.BackgroundBlob, dst.BackgroundFormat = src.BackgroundBlob, src.BackgroundFormat
	}
	for k, v := range src.ColorPresets {
		if dst.ColorPresets == nil {
			dst.ColorPresets = map[string][]string{}
		}
		dst.ColorPresets[k] = append([]string{}, v...)
	}
	if err := t.CreateCanvas(dst); err != nil {
		return nil, err
	}
	idMap := map[string]string{}
	for _, w := range ws {
		if w.Type == "SharedCanvas" {
			idMap[w.ID] = dst.RootWidget
		} else {
			idMap[w.ID] = uuid.NewString()
		}
	}
	for _, w := range ws {
		if w.Type == "SharedCanvas" {
			continue
		}
		nw := *w
		nw.ID, nw.CanvasID = idMap[w.ID], dst.ID
		nw.Props = remapProps(w.Props, idMap)
		for _, h := range widgetBlobs(w) {
			if err := t.AddBlobRef(h); err != nil {
				return nil, err
			}
		}
		if _, err := t.putWidget(&nw, EvWidgetCreated, nil); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func remapProps(p map[string]any, idMap map[string]string) map[string]any {
	out := deepCopy(p).(map[string]any)
	if pid, ok := out["parent_id"].(string); ok && idMap[pid] != "" {
		out["parent_id"] = idMap[pid]
	}
	for _, end := range []string{"src", "dst"} {
		if e, ok := out[end].(map[string]any); ok {
			if id, ok := e["id"].(string); ok && idMap[id] != "" {
				e["id"] = idMap[id]
			}
		}
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, v := range x {
			s[i] = deepCopy(v)
		}
		return s
	}
	return v
}
