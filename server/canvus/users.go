package canvus

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

func userJSON(u *store.User) gin.H {
	return gin.H{
		"admin":      u.Admin,
		"approved":   u.Approved,
		"blocked":    u.Blocked,
		"created_at": store.FormatTime(u.CreatedAt),
		"email":      u.Email,
		"id":         u.ID,
		"last_login": store.FormatTime(u.LastLogin),
		"name":       u.Name,
		"state":      "normal",
	}
}

// userJSONFor is userJSON as viewer may see it: an admin sees every record
// in full and a user their own; anyone else sees only id, name and state
// (no email, no flags, no times).
func userJSONFor(viewer, u *store.User) gin.H {
	if viewer != nil && (viewer.Admin || viewer.ID == u.ID) {
		return userJSON(u)
	}
	return gin.H{"id": u.ID, "name": u.Name, "state": "normal"}
}

func tokenJSON(t *store.Token) gin.H {
	return gin.H{"created_at": store.FormatTime(t.CreatedAt), "description": t.Description, "id": t.ID}
}

func (s *API) Login(c *gin.Context) {
	var req struct {
		Email    string `json:"email"`
		Username string `json:"username"` // another name for email, as Canvus clients send it
		Password string `json:"password"`
		Token    string `json:"token"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if req.Email == "" {
		req.Email = req.Username
	}
	var plain string
	var user *store.User
	if req.Token != "" {
		// Validate an existing token and prolong it.
		u, tk, err := s.Authenticate(req.Token)
		if err != nil {
			core.CanvusError(c, http.StatusUnauthorized, "Invalid access token")
			return
		}
		err = s.St.Write(func(tx *store.Tx) error {
			t, err := tx.Token(tk.ID)
			if err != nil {
				return err
			}
			if t.Login {
				t.ExpiresAt = tx.Now().Add(s.Cfg.LoginTTL)
				return tx.PutToken(t)
			}
			return nil
		})
		if err != nil {
			core.CanvusStoreError(c, err, "Token")
			return
		}
		plain, user = req.Token, u
	} else {
		if req.Email == "" || req.Password == "" {
			core.CanvusError(c, http.StatusBadRequest, "email and password are required")
			return
		}
		account, addr := strings.ToLower(strings.TrimSpace(req.Email)), c.ClientIP()
		if ok, wait := s.Logins.Check(account, addr, s.Now()); !ok {
			s.Metrics.Rejected.WithLabelValues("rate").Inc()
			c.Header("Retry-After", core.RetryAfter(wait))
			core.CanvusError(c, http.StatusTooManyRequests, "Too many failed sign-ins: retry after "+core.RetryAfter(wait)+" s")
			return
		}
		var u *store.User
		err := s.St.View(func(tx *store.Tx) error {
			var err error
			u, err = tx.UserByEmail(req.Email)
			if errors.Is(err, store.ErrNotFound) {
				u, err = nil, nil // no such account: the same 401 as a wrong password
			}
			return err
		})
		if err != nil {
			core.CanvusStoreError(c, fmt.Errorf("sign-in: read the account: %w", err), "User")
			return
		}
		var hash []byte // none: compare with the dummy hash, as long as a real one
		if u != nil {
			hash = u.PasswordHash
		}
		if !s.ComparePassword(hash, req.Password) || u == nil {
			s.Logins.Fail(account, addr, s.Now())
			core.CanvusError(c, http.StatusUnauthorized, "Invalid email or password")
			return
		}
		s.Logins.Succeed(account)
		if u.Blocked {
			core.CanvusError(c, http.StatusForbidden, "User is blocked")
			return
		}
		if msg := s.signInRefused(u); msg != "" {
			core.CanvusError(c, http.StatusForbidden, msg)
			return
		}
		err = s.St.Write(func(tx *store.Tx) error {
			cur, err := tx.User(u.ID)
			if err != nil {
				return err
			}
			cur.LastLogin = tx.Now()
			if err := tx.PutUser(cur); err != nil {
				return err
			}
			user = cur
			var tk *store.Token
			if plain, tk, err = tx.CreateToken(u.ID, "login", "", s.Cfg.LoginTTL); err != nil {
				return err
			}
			return tx.AppendAudit(store.AuditEvent{AuthorID: u.ID, Action: "user.signed_in", TargetType: "user",
				TargetID: strconv.FormatUint(u.ID, 10), Details: map[string]any{"token_id": tk.ID, "ip": c.ClientIP()}})
		})
		if err != nil {
			core.CanvusStoreError(c, err, "User")
			return
		}
	}
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(core.SessionCookie, plain, int(s.Cfg.LoginTTL.Seconds()), "/", "", s.Cfg.SecureCookie, true)
	c.JSON(http.StatusOK, gin.H{"token": plain, "user": userJSON(user)})
}

func (s *API) Logout(c *gin.Context) {
	var req struct {
		Token string `json:"token"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	target := core.TokenOf(c)
	if req.Token != "" {
		_, tk, err := s.Authenticate(req.Token)
		if err != nil {
			core.CanvusError(c, http.StatusBadRequest, "Invalid token")
			return
		}
		if tk.UserID != core.UserOf(c).ID && !core.UserOf(c).Admin {
			core.CanvusError(c, http.StatusForbidden, "Permission denied")
			return
		}
		target = tk
	}
	err := s.St.Write(func(tx *store.Tx) error {
		if err := tx.DeleteToken(target.ID); err != nil {
			return err
		}
		return tx.AppendAudit(tokenAudit(c, "token.signed_out", target))
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		core.CanvusStoreError(c, err, "Token")
		return
	}
	c.SetCookie(core.SessionCookie, "", -1, "/", "", s.Cfg.SecureCookie, true)
	c.JSON(http.StatusOK, gin.H{})
}

func (s *API) ListUsers(c *gin.Context) {
	var users []*store.User
	if err := s.St.View(func(tx *store.Tx) (err error) { users, err = tx.Users(); return }); err != nil {
		core.CanvusStoreError(c, err, "User")
		return
	}
	out := make([]gin.H, 0, len(users))
	me := core.UserOf(c)
	for _, u := range users {
		out = append(out, userJSONFor(me, u))
	}
	s.respond(c, out, nil)
}

type userReq struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Password *string `json:"password"`
	Admin    *bool   `json:"admin"`
	Approved *bool   `json:"approved"`
	Blocked  *bool   `json:"blocked"`
	// NeedEmailConfirmation true marks the email confirmed (PATCH, admin
	// only), as the Canvus reference has it.
	NeedEmailConfirmation *bool `json:"need_email_confirmation"`
}

func (s *API) CreateUser(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	var req userReq
	if !core.CanvusJSON(c, &req) {
		return
	}
	u, ok := req.newUser(c)
	if !ok {
		return
	}
	u.Approved = true
	if req.Password != nil {
		h, ok := hashPassword(c, *req.Password)
		if !ok {
			return
		}
		u.PasswordHash = h
	}
	if req.Approved != nil {
		u.Approved = *req.Approved
	}
	if !s.write(c, "User", func(tx *store.Tx) error {
		if err := createUser(tx, u); err != nil {
			return err
		}
		return tx.AppendAudit(userAudit(c, "user.created", u, map[string]any{"email": u.Email, "admin": u.Admin}))
	}) {
		return
	}
	c.JSON(http.StatusOK, userJSON(u))
}

// newUser checks a new account's email and name and makes its user (email,
// name, admin and blocked as asked), or answers 400.
func (req userReq) newUser(c *gin.Context) (*store.User, bool) {
	if req.Email == nil {
		core.CanvusError(c, http.StatusBadRequest, "A valid email is required")
		return nil, false
	}
	email, err := store.NormalizeEmail(*req.Email)
	if err != nil {
		core.CanvusStoreError(c, err, "User")
		return nil, false
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		core.CanvusError(c, http.StatusBadRequest, "name is required")
		return nil, false
	}
	u := &store.User{Email: email, Name: *req.Name}
	if req.Admin != nil {
		u.Admin = *req.Admin
	}
	if req.Blocked != nil {
		u.Blocked = *req.Blocked
	}
	return u, true
}

// createUser stores new user u inside a write transaction and, when that
// succeeds, sets u's id (u is left as it was on failure).
func createUser(tx *store.Tx, u *store.User) error {
	cp := *u
	if err := tx.CreateUser(&cp); err != nil {
		return err
	}
	*u = cp
	return nil
}

// hashPassword checks a new password's length (4 characters to 72 bytes, the
// most bcrypt reads) and hashes it, or answers 400.
func hashPassword(c *gin.Context, pw string) ([]byte, bool) {
	if len(pw) < 4 {
		core.CanvusError(c, http.StatusBadRequest, "Password must be at least 4 characters")
		return nil, false
	}
	if len(pw) > store.MaxPasswordBytes {
		core.CanvusError(c, http.StatusBadRequest, "Password is too long: at most 72 bytes")
		return nil, false
	}
	h, err := store.HashPassword(pw)
	if err != nil {
		core.CanvusStoreError(c, err, "User")
		return nil, false
	}
	return h, true
}

// userParam resolves :uid and checks that the caller may act on that user.
func (s *API) userParam(c *gin.Context, adminOnly bool) (*store.User, bool) {
	id, err := strconv.ParseUint(c.Param("uid"), 10, 64)
	if err != nil {
		core.CanvusError(c, http.StatusNotFound, "User not found")
		return nil, false
	}
	me := core.UserOf(c)
	if (adminOnly || me.ID != id) && !me.Admin {
		core.CanvusError(c, http.StatusForbidden, "Permission denied")
		return nil, false
	}
	var u *store.User
	if err := s.St.View(func(tx *store.Tx) (err error) { u, err = tx.User(id); return }); err != nil {
		core.CanvusStoreError(c, err, "User")
		return nil, false
	}
	return u, true
}

func (s *API) GetUser(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("uid"), 10, 64)
	if err != nil {
		core.CanvusError(c, http.StatusNotFound, "User not found")
		return
	}
	var u *store.User
	if err := s.St.View(func(tx *store.Tx) (err error) { u, err = tx.User(id); return }); err != nil {
		core.CanvusStoreError(c, err, "User")
		return
	}
	s.respond(c, userJSONFor(core.UserOf(c), u), nil)
}

func (s *API) PatchUser(c *gin.Context) {
	u, ok := s.userParam(c, false)
	if !ok {
		return
	}
	var req userReq
	if !core.CanvusJSON(c, &req) {
		return
	}
	me := core.UserOf(c)
	if !me.Admin && (req.Admin != nil || req.Approved != nil || req.Password != nil || req.NeedEmailConfirmation != nil) {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: admin only field")
		return
	}
	if !me.Admin && req.Blocked != nil && !*req.Blocked {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: only an admin can unblock")
		return
	}
	var pw []byte
	if req.Password != nil {
		if pw, ok = hashPassword(c, *req.Password); !ok {
			return
		}
	}
	if req.Email != nil {
		email, err := store.NormalizeEmail(*req.Email)
		if err != nil {
			core.CanvusStoreError(c, err, "User")
			return
		}
		req.Email = &email
	}
	var out *store.User
	if !s.write(c, "User", func(tx *store.Tx) error {
		cur, err := tx.User(u.ID)
		if err != nil {
			return err
		}
		if req.Email != nil {
			cur.Email = *req.Email
		}
		if req.Name != nil {
			cur.Name = *req.Name
		}
		if req.Admin != nil {
			cur.Admin = *req.Admin
		}
		if req.Approved != nil && *req.Approved {
			cur.Approved = true
		}
		if req.NeedEmailConfirmation != nil && *req.NeedEmailConfirmation {
			cur.NeedEmailConfirmation = false
		}
		if req.Blocked != nil {
			cur.Blocked = *req.Blocked
		}
		if pw != nil {
			cur.PasswordHash = pw
		}
		out = cur
		if err := tx.PutUser(cur); err != nil {
			return err
		}
		return tx.AppendAudit(userAudit(c, "user.updated", cur, userChanges(req)))
	}) {
		return
	}
	c.JSON(http.StatusOK, userJSON(out))
}

func (s *API) DeleteUser(c *gin.Context) {
	u, ok := s.userParam(c, true)
	if !ok {
		return
	}
	if u.ID == core.UserOf(c).ID || u.ID == store.GuestUserID {
		core.CanvusError(c, http.StatusBadRequest, "This user cannot be deleted")
		return
	}
	s.writeEmpty(c, "User", func(tx *store.Tx) error {
		if err := tx.DeleteUser(u.ID); err != nil {
			return err
		}
		return tx.AppendAudit(userAudit(c, "user.deleted", u, map[string]any{"email": u.Email}))
	})
}

func (s *API) ListTokens(c *gin.Context) {
	u, ok := s.userParam(c, false)
	if !ok {
		return
	}
	var toks []*store.Token
	if err := s.St.View(func(tx *store.Tx) (err error) { toks, err = tx.Tokens(u.ID); return }); err != nil {
		core.CanvusStoreError(c, err, "Token")
		return
	}
	out := make([]gin.H, 0, len(toks))
	for _, t := range toks {
		if !t.Login {
			out = append(out, tokenJSON(t))
		}
	}
	s.respond(c, out, nil)
}

func (s *API) CreateToken(c *gin.Context) {
	u, ok := s.userParam(c, false)
	if !ok {
		return
	}
	desc, ok := tokenDescription(c)
	if !ok {
		return
	}
	var plain string
	var tk *store.Token
	err := s.St.Write(func(tx *store.Tx) (err error) {
		if plain, tk, err = tx.CreateToken(u.ID, desc, "", 0); err != nil {
			return err
		}
		return tx.AppendAudit(tokenAudit(c, "token.created", tk))
	})
	if err != nil {
		core.CanvusStoreError(c, err, "Token")
		return
	}
	out := tokenJSON(tk)
	out["plain_token"] = plain
	c.JSON(http.StatusOK, out)
}

// tokenDescription reads the body of a token POST or PATCH:
// {"description": "..."}, required.
func tokenDescription(c *gin.Context) (string, bool) {
	var req struct {
		Description *string `json:"description"`
	}
	if !core.CanvusJSON(c, &req) {
		return "", false
	}
	if req.Description == nil {
		core.CanvusError(c, http.StatusBadRequest, "description is required")
		return "", false
	}
	return *req.Description, true
}

func (s *API) tokenParam(c *gin.Context) (*store.Token, bool) {
	u, ok := s.userParam(c, false)
	if !ok {
		return nil, false
	}
	var tk *store.Token
	err := s.St.View(func(tx *store.Tx) (err error) { tk, err = tx.Token(c.Param("tid")); return })
	if err != nil || tk.UserID != u.ID || tk.Login {
		core.CanvusError(c, http.StatusNotFound, "Access token not found")
		return nil, false
	}
	return tk, true
}

func (s *API) GetToken(c *gin.Context) {
	if tk, ok := s.tokenParam(c); ok {
		s.respond(c, tokenJSON(tk), nil)
	}
}

func (s *API) PatchToken(c *gin.Context) {
	tk, ok := s.tokenParam(c)
	if !ok {
		return
	}
	desc, ok := tokenDescription(c)
	if !ok {
		return
	}
	if !s.write(c, "Access token", func(tx *store.Tx) error {
		cur, err := tx.Token(tk.ID)
		if err != nil {
			return err
		}
		cur.Description = desc
		tk = cur
		if err := tx.PutToken(cur); err != nil {
			return err
		}
		return tx.AppendAudit(tokenAudit(c, "token.updated", cur))
	}) {
		return
	}
	c.JSON(http.StatusOK, tokenJSON(tk))
}

func (s *API) DeleteToken(c *gin.Context) {
	tk, ok := s.tokenParam(c)
	if !ok {
		return
	}
	s.writeEmpty(c, "Access token", func(tx *store.Tx) error {
		if err := tx.DeleteToken(tk.ID); err != nil {
			return err
		}
		return tx.AppendAudit(tokenAudit(c, "token.deleted", tk))
	})
}
