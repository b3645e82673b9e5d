package canvus

import (
	"errors"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/store"
)

// A user grant of POST /canvases/:id/permissions names its user by "id"
// (the Canvus reference) or, as an extension, by "email": the exact address
// of an account, compared case-insensitively. GET /users shows addresses to
// admins only, so e-mail is how anyone allowed to share invites a person
// they know by address. The answer names users by id and permission only,
// as for an id grant: an invite reveals no more than that an account with
// that address exists, and only to someone who may share the canvas.

// maxInviteEmail bounds users[].email (RFC 5321's path limit).
const maxInviteEmail = 254

// grantTarget is one users[] entry of POST /permissions.
type grantTarget struct {
	ID         *uint64 `json:"id"`
	Email      *string `json:"email"`
	Permission string  `json:"permission"`
}

// check says what is wrong with the entry's user reference, or "".
func (g *grantTarget) check() string {
	switch {
	case g.ID == nil && g.Email == nil:
		return "users[].id (or users[].email) is required"
	case g.ID != nil && g.Email != nil:
		return "users[]: give id or email, not both"
	case g.Email != nil && (strings.TrimSpace(*g.Email) == "" || len(*g.Email) > maxInviteEmail || !strings.Contains(*g.Email, "@")):
		return "users[].email must be an e-mail address"
	}
	return ""
}

// unknownUserError answers 404: no account has the invited address.
type unknownUserError struct{ msg string }

func (e *unknownUserError) Error() string { return e.msg }

// resolve returns the id of the user the entry names, in tx.
func (g *grantTarget) resolve(tx *store.Tx) (uint64, error) {
	if g.ID != nil {
		if _, err := tx.User(*g.ID); err != nil {
			return 0, store.Invalidf("User " + strconv.FormatUint(*g.ID, 10) + " does not exist")
		}
		return *g.ID, nil
	}
	email := strings.TrimSpace(*g.Email)
	u, err := tx.UserByEmail(email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.ID == store.GuestUserID) {
		return 0, &unknownUserError{"No user with the e-mail address " + strconv.Quote(email) + " on this server"}
	}
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}
