package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword bcrypts a password. bcrypt reads at most 72 bytes, so a longer
// password is refused (InvalidError) rather than silently cut or dropped.
func HashPassword(pw string) ([]byte, error) {
	if len(pw) > MaxPasswordBytes {
		return nil, Invalidf("Password is too long: at most 72 bytes")
	}
	return bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
}

// CheckPassword reports whether pw matches u's hash.
func (u *User) CheckPassword(pw string) bool {
	if len(u.PasswordHash) == 0 {
		return false
	}
	return bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(pw)) == nil
}

// HashToken is how a plain token is stored: hex SHA-256.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// NewPlainToken returns a fresh 256-bit token, base64url without padding.
func NewPlainToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// MaxPasswordBytes is the longest password bcrypt can take.
const MaxPasswordBytes = 72

// NormalizeEmail returns the one form an email address is stored and indexed
// in: trimmed, lower-cased, and a plain address (net/mail) — no display name,
// no angle brackets, no comments.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", Invalidf("email is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || !strings.Contains(e, "@") {
		return "", Invalidf("A valid email is required (a plain address such as name@example.com)")
	}
	return e, nil
}

// emailKey is the index key of a stored email, normalised or not (records
// written before NormalizeEmail existed may be untrimmed or mixed-case).
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a new user with the next id. Email must be unique; it is
// stored in its normal form (NormalizeEmail).
func (t *Tx) CreateUser(u *User) error {
	t.authChanged()
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	idx := t.btx.Bucket(bucketUserEmail)
	if t.emailTaken(email, 0) {
		return &InvalidError{Msg: "A user with this email already exists"}
	}
	meta := t.btx.Bucket(bucketMeta)
	id := btoi(meta.Get(metaNextUser))
	if err := meta.Put(metaNextUser, itob(id+1)); err != nil {
		return err
	}
	u.ID = id
	u.Email = email
	u.CreatedAt = t.now
	if err := idx.Put([]byte(email), itob(id)); err != nil {
		return err
	}
	if err := putJSON(t.btx.Bucket(bucketUsers), itob(id), u); err != nil {
		return err
	}
	// Every user gets a home folder and a trash folder.
	home := &Folder{ID: homeFolderID(id), Name: u.Name, FolderID: t.s.rootFolder, OwnerID: id}
	trash := &Folder{ID: "trash." + homeFolderID(id), Name: "Trash", FolderID: home.ID, OwnerID: id, InTrash: true}
	if err := t.PutFolder(home); err != nil {
		return err
	}
	return t.PutFolder(trash)
}

// HomeFolderID returns the id of user id's home folder.
func HomeFolderID(id uint64) string { return homeFolderID(id) }

func homeFolderID(id uint64) string { return uitoa(id) }

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

// PutUser updates a user, keeping the email index exact: a changed email is
// stored in its normal form, its index entry added and the old one removed.
func (t *Tx) PutUser(u *User) error {
	t.authChanged()
	old, err := t.User(u.ID)
	if err != nil {
		return err
	}
	idx := t.btx.Bucket(bucketUserEmail)
	oldKey := emailKey(old.Email)
	if u.Email != old.Email {
		if u.Email == "" && old.Email != "" {
			return Invalidf("email is required")
		}
		if u.Email != "" {
			email, err := NormalizeEmail(u.Email)
			if err != nil {
				return err
			}
			u.Email = email
		}
	}
	if newKey := emailKey(u.Email); newKey != oldKey {
		if t.emailTaken(newKey, u.ID) {
			return Invalidf("A user with this email already exists")
		}
		if err := t.unindexEmail(oldKey, u.ID); err != nil {
			return err
		}
		if err := idx.Put([]byte(newKey), itob(u.ID)); err != nil {
			return err
		}
	}
	return putJSON(t.btx.Bucket(bucketUsers), itob(u.ID), u)
}

// emailTaken reports whether the index gives key to a user other than id
// whose email really is key (a stale entry does not count).
func (t *Tx) emailTaken(key string, id uint64) bool {
	v := t.btx.Bucket(bucketUserEmail).Get([]byte(key))
	if v == nil || btoi(v) == id {
		return false
	}
	other, err := t.User(btoi(v))
	return err == nil && emailKey(other.Email) == key
}

// unindexEmail removes key from the email index if it names user id.
func (t *Tx) unindexEmail(key string, id uint64) error {
	if key == "" {
		return nil
	}
	idx := t.btx.Bucket(bucketUserEmail)
	if v := idx.Get([]byte(key)); v != nil && btoi(v) == id {
		return idx.Delete([]byte(key))
	}
	return nil
}

// User returns a user by id.
func (t *Tx) User(id uint64) (*User, error) {
	u := &User{}
	if err := getJSON(t.btx.Bucket(bucketUsers), itob(id), u); err != nil {
		return nil, err
	}
	return u, nil
}

// UserByEmail returns a user by email (case-insensitive).
func (t *Tx) UserByEmail(email string) (*User, error) {
	key := emailKey(email)
	v := t.btx.Bucket(bucketUserEmail).Get([]byte(key))
	if v == nil || key == "" {
		return nil, ErrNotFound
	}
	u, err := t.User(btoi(v))
	if err != nil {
		return nil, err
	}
	if emailKey(u.Email) != key {
		return nil, ErrNotFound // a stale entry: the user has another email now
	}
	return u, nil
}

// Users lists every user in id order.
func (t *Tx) Users() ([]*User, error) {
	var out []*User
	err := t.btx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		u := &User{}
		if err := getJSON(t.btx.Bucket(bucketUsers), k, u); err != nil {
			return err
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// DeleteUser removes a user and all their tokens.
func (t *Tx) DeleteUser(id uint64) error {
	t.authChanged()
	u, err := t.User(id)
	if err != nil {
		return err
	}
	if err := t.unindexEmail(emailKey(u.Email), id); err != nil {
		return err
	}
	if err := t.btx.Bucket(bucketUserCredits).Delete(itob(id)); err != nil {
		return err
	}
	toks, err := t.Tokens(id)
	if err != nil {
		return err
	}
	for _, tk := range toks {
		if err := t.DeleteToken(tk.ID); err != nil {
			return err
		}
	}
	return t.btx.Bucket(bucketUsers).Delete(itob(id))
}

// CreateToken stores a new token for user and returns its plain value, which
// is never stored. plain may be given (bootstrap); "" makes a fresh one.
func (t *Tx) CreateToken(userID uint64, description, plain string, ttl time.Duration) (string, *Token, error) {
	t.authChanged()
	if plain == "" {
		plain = NewPlainToken()
	}
	tk := &Token{ID: RandomToken(16), UserID: userID, Description: description, CreatedAt: t.now, Hash: HashToken(plain)}
	if ttl > 0 {
		tk.ExpiresAt = t.now.Add(ttl)
		tk.Login = true
	}
	if t.btx.Bucket(bucketTokens).Get([]byte(tk.Hash)) != nil {
		return "", nil, Invalidf("token already exists")
	}
	if err := putJSON(t.btx.Bucket(bucketTokens), []byte(tk.Hash), tk); err != nil {
		return "", nil, err
	}
	if err := t.btx.Bucket(bucketTokenIDs).Put([]byte(tk.ID), []byte(tk.Hash)); err != nil {
		return "", nil, err
	}
	return plain, tk, nil
}

// TokenByPlain looks a plain token up. Expired tokens are ErrNotFound.
func (t *Tx) TokenByPlain(plain string) (*Token, error) {
	tk := &Token{}
	if err := getJSON(t.btx.Bucket(bucketTokens), []byte(HashToken(plain)), tk); err != nil {
		return nil, err
	}
	if !tk.ExpiresAt.IsZero() && t.now.After(tk.ExpiresAt) {
		return nil, ErrNotFound
	}
	return tk, nil
}

// Token returns a token by its public id.
func (t *Tx) Token(id string) (*Token, error) {
	h := t.btx.Bucket(bucketTokenIDs).Get([]byte(id))
	if h == nil {
		return nil, ErrNotFound
	}
	tk := &Token{}
	if err := getJSON(t.btx.Bucket(bucketTokens), h, tk); err != nil {
		return nil, err
	}
	return tk, nil
}

// PutToken updates a token's description or expiry.
func (t *Tx) PutToken(tk *Token) error {
	t.authChanged()
	return putJSON(t.btx.Bucket(bucketTokens), []byte(tk.Hash), tk)
}

// Tokens lists a user's personal access tokens (login tokens excluded).
func (t *Tx) Tokens(userID uint64) ([]*Token, error) {
	var out []*Token
	err := t.btx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
		tk := &Token{}
		if err := getJSON(t.btx.Bucket(bucketTokens), k, tk); err != nil {
			return err
		}
		if tk.UserID == userID {
			out = append(out, tk)
		}
		return nil
	})
	return out, err
}

// DeleteToken revokes a token by public id.
func (t *Tx) DeleteToken(id string) error {
	t.authChanged()
	h := t.btx.Bucket(bucketTokenIDs).Get([]byte(id))
	if h == nil {
		return ErrNotFound
	}
	h = append([]byte(nil), h...)
	if err := t.btx.Bucket(bucketTokens).Delete(h); err != nil {
		return err
	}
	if err := t.btx.Bucket(bucketCredits).Delete([]byte(id)); err != nil {
		return err
	}
	return t.btx.Bucket(bucketTokenIDs).Delete([]byte(id))
}

// Uncrop credits belong to the account (bucketUserCredits); a token may carry
// its own cap (bucketCredits) that only narrows them. What a token may spend
// is the smaller of the two; a new token or a login never brings credits.

// UserCredits returns a user's remaining credits; ok=false means unlimited.
func (t *Tx) UserCredits(userID uint64) (n int64, ok bool) {
	v := t.btx.Bucket(bucketUserCredits).Get(itob(userID))
	if v == nil {
		return 0, false
	}
	return int64(btoi(v)), true
}

// SetUserCredits sets a user's credits; n < 0 makes them unlimited.
func (t *Tx) SetUserCredits(userID uint64, n int64) error {
	if n < 0 {
		return t.btx.Bucket(bucketUserCredits).Delete(itob(userID))
	}
	return t.btx.Bucket(bucketUserCredits).Put(itob(userID), itob(uint64(n)))
}

// TokenCap returns a token's own cap; ok=false means none (the user's
// credits alone apply).
func (t *Tx) TokenCap(tokenID string) (n int64, ok bool) {
	v := t.btx.Bucket(bucketCredits).Get([]byte(tokenID))
	if v == nil {
		return 0, false
	}
	return int64(btoi(v)), true
}

// SetTokenCap sets a token's own cap; n < 0 removes it.
func (t *Tx) SetTokenCap(tokenID string, n int64) error {
	if n < 0 {
		return t.btx.Bucket(bucketCredits).Delete([]byte(tokenID))
	}
	return t.btx.Bucket(bucketCredits).Put([]byte(tokenID), itob(uint64(n)))
}

// Credits returns what tk may still spend: the smaller of its user's credits
// and its own cap; ok=false means unlimited.
func (t *Tx) Credits(tk *Token) (n int64, ok bool) {
	un, uok := t.UserCredits(tk.UserID)
	tn, tok := t.TokenCap(tk.ID)
	switch {
	case uok && tok:
		return min(un, tn), true
	case uok:
		return un, true
	case tok:
		return tn, true
	}
	return 0, false
}

// ChargeCredit takes one credit from tk's user and from tk's cap (each when
// limited). It returns what tk may still spend (-1 for unlimited) or
// ErrNoCredits.
func (t *Tx) ChargeCredit(tk *Token) (int64, error) {
	n, ok := t.Credits(tk)
	if !ok {
		return -1, nil
	}
	if n <= 0 {
		return 0, ErrNoCredits
	}
	if un, uok := t.UserCredits(tk.UserID); uok {
		if err := t.SetUserCredits(tk.UserID, un-1); err != nil {
			return 0, err
		}
	}
	if tn, tok := t.TokenCap(tk.ID); tok {
		if err := t.SetTokenCap(tk.ID, tn-1); err != nil {
			return 0, err
		}
	}
	return n - 1, nil
}
