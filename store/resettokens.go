package store

import (
	"encoding/json"
	"time"
)

// Kinds of UserToken.
const (
	UserTokenReset   = "password_reset"
	UserTokenConfirm = "email_confirmation"
)

// UserToken is a single-use token sent by email: a password reset or an
// email confirmation. Only the SHA-256 of the plain token is stored (as the
// key), so a copy of the database cannot be used to reset a password.
type UserToken struct {
	Kind      string    `json:"kind"`
	UserID    uint64    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateUserToken issues a token of kind for user uid that lives ttl and
// returns its plain value (never stored). Earlier tokens of the same kind
// for that user stop working, and expired tokens of anyone are removed.
func (t *Tx) CreateUserToken(uid uint64, kind string, ttl time.Duration) (string, error) {
	if kind != UserTokenReset && kind != UserTokenConfirm {
		return "", Invalidf("unknown token kind " + kind)
	}
	if _, err := t.User(uid); err != nil {
		return "", err
	}
	b := t.btx.Bucket(bucketUserTokens)
	var stale [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var ut UserToken
		if err := json.Unmarshal(v, &ut); err != nil || !t.now.Before(ut.ExpiresAt) || ut.UserID == uid && ut.Kind == kind {
			stale = append(stale, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return "", err
		}
	}
	plain := NewPlainToken()
	ut := &UserToken{Kind: kind, UserID: uid, CreatedAt: t.now, ExpiresAt: t.now.Add(ttl)}
	return plain, putJSON(b, []byte(HashToken(plain)), ut)
}

// RecentUserToken reports whether user uid was issued a live token of kind
// after since: a caller that sends emails uses it to send at most one per
// interval (the earlier link still works).
func (t *Tx) RecentUserToken(uid uint64, kind string, since time.Time) bool {
	found := false
	t.btx.Bucket(bucketUserTokens).ForEach(func(_, v []byte) error {
		var ut UserToken
		if json.Unmarshal(v, &ut) == nil && ut.UserID == uid && ut.Kind == kind && ut.CreatedAt.After(since) && t.now.Before(ut.ExpiresAt) {
			found = true
		}
		return nil
	})
	return found
}

// UserToken returns the live token of kind whose plain value is plain,
// without consuming it: ErrNotFound when it is unknown, of another kind,
// expired, or its user is gone.
func (t *Tx) UserToken(plain, kind string) (*UserToken, error) {
	if plain == "" {
		return nil, ErrNotFound
	}
	ut := &UserToken{}
	if err := getJSON(t.btx.Bucket(bucketUserTokens), []byte(HashToken(plain)), ut); err != nil {
		return nil, err
	}
	if ut.Kind != kind || !t.now.Before(ut.ExpiresAt) {
		return nil, ErrNotFound
	}
	if _, err := t.User(ut.UserID); err != nil {
		return nil, ErrNotFound
	}
	return ut, nil
}

// ConsumeUserToken is UserToken, and deletes the token: it works once.
func (t *Tx) ConsumeUserToken(plain, kind string) (*UserToken, error) {
	ut, err := t.UserToken(plain, kind)
	if err != nil {
		return nil, err
	}
	return ut, t.btx.Bucket(bucketUserTokens).Delete([]byte(HashToken(plain)))
}

// GuestBlocked reports whether the Guest user is blocked, in which case no
// canvas's link_permission grants anything.
func (t *Tx) GuestBlocked() bool {
	g, err := t.User(GuestUserID)
	return err == nil && g.Blocked
}
