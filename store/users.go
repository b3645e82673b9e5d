package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword bcrypts a password.
func HashPassword(pw string) ([]byte, error) {
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

// CreateUser stores a new user with the next id. Email must be unique.
func (t *Tx) CreateUser(u *User) error {
	t.authChanged()
	email := strings.ToLower(strings.TrimSpace(u.Email))
	if email == "" {
		return Invalidf("email is required")
	}
	idx := t.btx.Bucket(bucketUserEmail)
	if idx.Get([]byte(email)) != nil {
		return &InvalidError{Msg: "A user with this email already exists"}
	}
	meta := t.btx.Bucket(bucketMeta)
	id := btoi(meta.Get(metaNextUser))
	if err := meta.Put(metaNextUser, itob(id+1)); err != nil {
		return err
	}
	u.ID = id
	u.Email = strings.TrimSpace(u.Email)
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

// PutUser updates a user, keeping the email index right.
func (t *Tx) PutUser(u *User) error {
	t.authChanged()
	old, err := t.User(u.ID)
	if err != nil {
		return err
	}
	idx := t.btx.Bucket(bucketUserEmail)
	oldEmail, newEmail := strings.ToLower(old.Email), strings.ToLower(strings.TrimSpace(u.Email))
	if oldEmail != newEmail {
		if newEmail == "" {
			return Invalidf("email is required")
		}
		if idx.Get([]byte(newEmail)) != nil {
			return Invalidf("A user with this email already exists")
		}
		if oldEmail != "" {
			if err := idx.Delete([]byte(oldEmail)); err != nil {
				return err
			}
		}
		if err := idx.Put([]byte(newEmail), itob(u.ID)); err != nil {
			return err
		}
	}
	return putJSON(t.btx.Bucket(bucketUsers), itob(u.ID), u)
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
	v := t.btx.Bucket(bucketUserEmail).Get([]byte(strings.ToLower(strings.TrimSpace(email))))
	if v == nil {
		return nil, ErrNotFound
	}
	return t.User(btoi(v))
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
	if u.Email != "" {
		if err := t.btx.Bucket(bucketUserEmail).Delete([]byte(strings.ToLower(u.Email))); err != nil {
			return err
		}
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

// Credits returns a token's remaining credits; ok=false means unlimited.
func (t *Tx) Credits(tokenID string) (n int64, ok bool) {
	v := t.btx.Bucket(bucketCredits).Get([]byte(tokenID))
	if v == nil {
		return 0, false
	}
	return int64(btoi(v)), true
}

// SetCredits sets a token's credits; n < 0 makes it unlimited.
func (t *Tx) SetCredits(tokenID string, n int64) error {
	if n < 0 {
		return t.btx.Bucket(bucketCredits).Delete([]byte(tokenID))
	}
	return t.btx.Bucket(bucketCredits).Put([]byte(tokenID), itob(uint64(n)))
}

// ChargeCredit takes one credit. It returns the remaining count (-1 for
// unlimited) or ErrNoCredits.
func (t *Tx) ChargeCredit(tokenID string) (int64, error) {
	n, ok := t.Credits(tokenID)
	if !ok {
		return -1, nil
	}
	if n <= 0 {
		return 0, ErrNoCredits
	}
	return n - 1, t.SetCredits(tokenID, n-1)
}
