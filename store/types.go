package store

import (
	"encoding/json"
	"errors"
	"time"
)

// Errors callers map to their dialect's status codes.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrInvalid    = errors.New("invalid")
	ErrForbidden  = errors.New("forbidden")
	ErrBlobGone   = errors.New("blob file vanished before commit")
	ErrNoCredits  = errors.New("no credits left")
	ErrClosed     = errors.New("store closed")
	ErrTooOld     = errors.New("since is older than the log")
	errRetryBatch = errors.New("retry batch")
)

// InvalidError carries a message meant for the client.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Invalidf builds an InvalidError.
func Invalidf(msg string) error { return &InvalidError{Msg: msg} }

// Access levels, ordered.
const (
	AccessNone  = "none"
	AccessView  = "view"
	AccessEdit  = "edit"
	AccessOwner = "owner"
)

// AccessRank orders access levels: none < view < edit < owner.
func AccessRank(a string) int {
	switch a {
	case AccessView:
		return 1
	case AccessEdit:
		return 2
	case AccessOwner:
		return 3
	}
	return 0
}

// ValidAccess reports whether a is one of none/view/edit/owner.
func ValidAccess(a string) bool {
	return a == AccessNone || a == AccessView || a == AccessEdit || a == AccessOwner
}

// User is an account. PasswordHash is bcrypt.
type User struct {
	ID           uint64    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Admin        bool      `json:"admin"`
	Approved     bool      `json:"approved"`
	Blocked      bool      `json:"blocked"`
	PasswordHash []byte    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	LastLogin    time.Time `json:"last_login"`
	// NeedEmailConfirmation is set on a self-registered user until they
	// confirm their email address (POST /users/confirm-email); such a user
	// cannot sign in. Zero (confirmed) for every other user.
	NeedEmailConfirmation bool `json:"need_email_confirmation,omitempty"`
	// Groups are the ids of the groups the user is a member of, ascending,
	// without the implicit All Users group. Kept on the user so that an
	// access check needs no second read (see Canvas.AccessFor).
	Groups []uint64 `json:"groups,omitempty"`
}

// Token is an access token. Only the SHA-256 of the plain token is stored.
type Token struct {
	ID          string    `json:"id"`
	UserID      uint64    `json:"user_id"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	// ExpiresAt is zero for personal access tokens, set for login tokens.
	ExpiresAt time.Time `json:"expires_at,omitempty"`
	Login     bool      `json:"login,omitempty"`
	Hash      string    `json:"hash"`
}

// Folder is a canvas folder.
type Folder struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	FolderID string            `json:"folder_id"`
	OwnerID  uint64            `json:"owner_id"`
	InTrash  bool              `json:"in_trash"`
	Users    map[uint64]string `json:"users,omitempty"`
	// Groups are the folder's group grants: group id -> access.
	Groups map[uint64]string `json:"groups,omitempty"`
	// NoEditorsShare turns editors_can_share off (the zero value: on).
	NoEditorsShare bool `json:"no_editors_share,omitempty"`
}

// Canvas is a canvas and its sharing settings.
type Canvas struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Mode            string            `json:"mode"`
	FolderID        string            `json:"folder_id"`
	OwnerID         uint64            `json:"owner_id"`
	InTrash         bool              `json:"in_trash"`
	CreatedAt       time.Time         `json:"created_at"`
	ModifiedAt      time.Time         `json:"modified_at"`
	LinkPermission  string            `json:"link_permission"`
	EditorsCanShare bool              `json:"editors_can_share"`
	Users           map[uint64]string `json:"users,omitempty"`
	// Groups are the canvas's group grants: group id -> access (view, edit
	// or owner). A member of a group has the best of its grants.
	Groups     map[uint64]string `json:"groups,omitempty"`
	RootWidget string            `json:"root_widget"`
	AssetSize  int64             `json:"asset_size"`
	// Inherited and InheritedGroups are what the canvas's folder and the
	// folders above it grant (their owners as owner, their user and group
	// grants), filled by Tx.Canvas and Tx.Canvases; never stored.
	Inherited       map[uint64]string `json:"-"`
	InheritedGroups map[uint64]string `json:"-"`
	// Background is the canvas background as GET …/background shows it
	// (nil: the default); BackgroundBlob the blob its image holds a
	// reference to ("" for none).
	Background     map[string]any `json:"background,omitempty"`
	BackgroundBlob string         `json:"background_blob,omitempty"`
	// BackgroundFormat is the image format of BackgroundBlob (png, jpeg, ...).
	BackgroundFormat string `json:"background_format,omitempty"`
	// ColorPresets are the canvas's colour presets by key (annotation,
	// connector, note_background, note_text); a missing key has its default.
	ColorPresets map[string][]string `json:"color_presets,omitempty"`

	// guestBlocked is set when the canvas is read while the Guest user is
	// blocked: link_permission then grants nothing (see AccessFor).
	guestBlocked bool
}

// AccessFor returns the effective access of user u (nil = anonymous guest) on c.
func (c *Canvas) AccessFor(u *User) string {
	best := AccessNone
	if !c.guestBlocked && (c.LinkPermission == AccessView || c.LinkPermission == AccessEdit) {
		best = c.LinkPermission
	}
	if u == nil || u.ID == GuestUserID {
		return best
	}
	if u.Admin || u.ID == c.OwnerID {
		return AccessOwner
	}
	if p, ok := c.Users[u.ID]; ok && AccessRank(p) > AccessRank(best) {
		best = p
	}
	if p, ok := c.Inherited[u.ID]; ok && AccessRank(p) > AccessRank(best) {
		best = p
	}
	if p := GroupAccess(c.InheritedGroups, u); AccessRank(p) > AccessRank(best) {
		best = p
	}
	if p := GroupAccess(c.Groups, u); AccessRank(p) > AccessRank(best) {
		best = p
	}
	return best
}

// LinkBlocked reports whether link_permission grants nothing on c because
// the Guest user is blocked.
func (c *Canvas) LinkBlocked() bool { return c.guestBlocked }

// GroupAccess is the best access grants (group id -> access) give user u
// through the groups u is a member of, All Users included; AccessNone for
// the guest and for anonymous callers.
func GroupAccess(grants map[uint64]string, u *User) string {
	best := AccessNone
	if u == nil || u.ID == GuestUserID || len(grants) == 0 {
		return best
	}
	if p, ok := grants[AllUsersGroupID]; ok && AccessRank(p) > AccessRank(best) {
		best = p
	}
	for _, g := range u.Groups {
		if p, ok := grants[g]; ok && AccessRank(p) > AccessRank(best) {
			best = p
		}
	}
	return best
}

// Version is one stored rendition of an image element. Version 0 is the
// original pipeline crop.
type Version struct {
	Version   int         `json:"version"`
	Blob      string      `json:"blob"`
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	BBox      *[4]float64 `json:"bbox,omitempty"` // x, y, w, h as fractions of the source; nil when unknown
	Kind      string      `json:"kind"`           // original, recrop, uncrop
	CreatedAt time.Time   `json:"created_at"`
	AuthorID  uint64      `json:"author_id"`
	Author    string      `json:"author"`
}

// Widget is any canvas widget. Props holds the public JSON fields other than
// id and widget_type; the rest is server-side state never shown as-is.
type Widget struct {
	ID       string         `json:"id"`
	CanvasID string         `json:"canvas_id"`
	Type     string         `json:"widget_type"`
	Props    map[string]any `json:"props"`

	// File-backed widgets (Image, Pdf, Video).
	Blob     string `json:"blob,omitempty"`
	Format   string `json:"format,omitempty"`
	PixelW   int    `json:"pixel_w,omitempty"`
	PixelH   int    `json:"pixel_h,omitempty"`
	Filename string `json:"filename,omitempty"`
	// Pages is a PDF's page count; DurationMS a video's duration in
	// milliseconds, 0 when its container does not say. Read at upload
	// (imaging/media), kept server-side.
	Pages      int   `json:"pages,omitempty"`
	DurationMS int64 `json:"duration_ms,omitempty"`

	// Re-crop and uncrop state.
	SourceBlob string          `json:"source_blob,omitempty"`
	SourceW    int             `json:"source_w,omitempty"`
	SourceH    int             `json:"source_h,omitempty"`
	Versions   []Version       `json:"versions,omitempty"`
	Digitized  json.RawMessage `json:"digitized,omitempty"`
}

// Public returns the widget as the Canvus API shows it. The map is a fresh copy.
func (w *Widget) Public() map[string]any {
	m := make(map[string]any, len(w.Props)+4)
	for k, v := range w.Props {
		m[k] = v
	}
	m["id"] = w.ID
	m["widget_type"] = w.Type
	if _, ok := m["state"]; !ok {
		m["state"] = "normal"
	}
	if len(w.Digitized) > 0 {
		m["digitized"] = w.Digitized
	}
	if len(w.Versions) > 0 {
		m["version"] = w.Versions[len(w.Versions)-1].Version
	}
	return m
}

// CurrentVersion returns the newest version, or nil.
func (w *Widget) CurrentVersion() *Version {
	if len(w.Versions) == 0 {
		return nil
	}
	return &w.Versions[len(w.Versions)-1]
}

// ParentID returns the widget's parent id, or "".
func (w *Widget) ParentID() string {
	s, _ := w.Props["parent_id"].(string)
	return s
}

// Event is one entry of a canvas's log.
type Event struct {
	Seq      uint64 `json:"seq"`
	CanvasID string `json:"canvas_id"`
	Type     string `json:"type"`
	// Data is the encoded JSON envelope, shared by every transport.
	Data []byte `json:"-"`
}

// Event types.
const (
	EvCanvasUpdated    = "CANVAS_UPDATED"
	EvCanvasDeleted    = "CANVAS_DELETED"
	EvWidgetCreated    = "WIDGET_CREATED"
	EvWidgetUpdated    = "WIDGET_UPDATED"
	EvWidgetDeleted    = "WIDGET_DELETED"
	EvImageRecropped   = "IMAGE_RECROPPED"
	EvImageUncropped   = "IMAGE_UNCROPPED"
	EvElementDigitized = "ELEMENT_DIGITIZED"
)

type blobRef struct {
	Refs int64 `json:"refs"`
	Size int64 `json:"size"`
}
