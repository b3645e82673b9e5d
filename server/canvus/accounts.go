package canvus

// Account flows of the Canvus Users API: self-registration, admin approval,
// email confirmation, password change and reset, block and unblock.
// Tokens sent by email are single-use, expire, and are stored hashed
// (store.UserToken); emails go out as mail.go says.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// authorOf is the audit author of a request: its user, or 0 when anonymous.
func authorOf(c *gin.Context) uint64 {
	if u := core.UserOf(c); u != nil {
		return u.ID
	}
	return 0
}

// userAudit is the audit event of a change to user u.
func userAudit(c *gin.Context, action string, u *store.User, details map[string]any) store.AuditEvent {
	return store.AuditEvent{AuthorID: authorOf(c), Action: action, TargetType: "user", TargetID: strconv.FormatUint(u.ID, 10), Details: details}
}

func (s *API) Register(c *gin.Context) {
	var req userReq
	if !core.CanvusJSON(c, &req) {
		return
	}
	me := core.UserOf(c)
	admin := me != nil && me.Admin
	var cfg store.ServerConfig
	if err := s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return }); err != nil {
		core.CanvusStoreError(c, err, "Server config")
		return
	}
	if !admin && (!cfg.Authentication.Password.Enabled || !cfg.Authentication.Password.SignUpEnabled) {
		core.CanvusError(c, http.StatusForbidden, "Sign-up using a password is not enabled")
		return
	}
	if !admin && (req.Admin != nil && *req.Admin || req.Approved != nil && *req.Approved) {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: only an admin can set admin or approved")
		return
	}
	u, ok := req.newUser(c)
	if !ok {
		return
	}
	if req.Password == nil {
		core.CanvusError(c, http.StatusBadRequest, "password is required")
		return
	}
	if !admin && !domainAllowed(cfg.Authentication.DomainAllowList, u.Email) {
		core.CanvusError(c, http.StatusForbidden, "Sign-up is not allowed for this email domain")
		return
	}
	hash, ok := hashPassword(c, *req.Password)
	if !ok {
		return
	}
	u.PasswordHash, u.Approved, u.NeedEmailConfirmation = hash, admin || !cfg.Authentication.RequireAdminApproval, !admin
	if req.Approved != nil && *req.Approved {
		u.Approved = true
	}
	var plain string
	err := s.St.Write(func(tx *store.Tx) error {
		if err := createUser(tx, u); err != nil {
			return err
		}
		if u.NeedEmailConfirmation {
			var err error
			if plain, err = tx.CreateUserToken(u.ID, store.UserTokenConfirm, s.Cfg.EmailConfirmTTL); err != nil {
				return err
			}
		}
		return tx.AppendAudit(userAudit(c, "user.registered", u, map[string]any{"email": u.Email}))
	})
	if err != nil {
		core.CanvusStoreError(c, err, "User")
		return
	}
	if plain != "" {
		link := s.publicBase(c) + "/confirm-email?token=" + url.QueryEscape(plain)
		err := s.sendMail(c, accountMail{to: u.Email, kind: store.UserTokenConfirm, link: link,
			subject: "Confirm your email address",
			text:    "Welcome, " + u.Name + ".\n\nConfirm your email address with this link:\n" + link + "\n\nor with this token: " + plain + "\n"})
		if err != nil {
			// The account exists; a password reset (which also confirms
			// the address) is the way back in.
			s.Log.Error().Err(err).Str("request_id", c.GetString("request_id")).Msg("confirmation email not sent")
		}
	}
	c.JSON(http.StatusOK, userJSON(u))
}

// domainAllowed reports whether email's domain is in allow (an empty list
// allows every domain).
func domainAllowed(allow []string, email string) bool {
	if len(allow) == 0 {
		return true
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	for _, d := range allow {
		if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(d), "@"), domain) {
			return true
		}
	}
	return false
}

func (s *API) ConfirmEmail(c *gin.Context) {
	var req struct {
		Token string `json:"token"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	var out *store.User
	err := s.St.Write(func(tx *store.Tx) error {
		u, err := consumeTokenUser(tx, req.Token, store.UserTokenConfirm)
		if err != nil {
			return err
		}
		u.NeedEmailConfirmation = false
		out = u
		return putUserAudited(c, tx, u, "user.email_confirmed")
	})
	if storeFailed(c, err, http.StatusBadRequest, "Invalid email confirmation token.", "User") {
		return
	}
	c.JSON(http.StatusOK, userJSON(out))
}

// setUserFlag is approve, block and unblock: load :uid (adminOnly: only an
// admin may; otherwise also the user themself), apply set, answer the user.
func (s *API) setUserFlag(adminOnly bool, action string, set func(*store.User)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := s.userParam(c, adminOnly)
		if !ok {
			return
		}
		s.updateUser(c, u.ID, action, set)
	}
}

// ApproveUser (admin only) approves a user waiting for approval.
func (s *API) ApproveUser() gin.HandlerFunc {
	return s.setUserFlag(true, "user.approved", func(u *store.User) { u.Approved = true })
}

// BlockUser: a user may block themself, an admin anyone (the Guest
// included, which turns link-permission access off everywhere).
func (s *API) BlockUser() gin.HandlerFunc {
	return s.setUserFlag(false, "user.blocked", func(u *store.User) { u.Blocked = true })
}

// UnblockUser (admin only) unblocks a user.
func (s *API) UnblockUser() gin.HandlerFunc {
	return s.setUserFlag(true, "user.unblocked", func(u *store.User) { u.Blocked = false })
}

// ChangePassword: a user changes their own password with the current one;
// an admin may set another regular user's without it (not another admin's).
func (s *API) ChangePassword(c *gin.Context) {
	u, ok := s.userParam(c, false)
	if !ok {
		return
	}
	var req struct {
		CurrentPassword *string `json:"current_password"`
		NewPassword     *string `json:"new_password"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	me := core.UserOf(c)
	self := me.ID == u.ID
	if !self && u.Admin {
		core.CanvusError(c, http.StatusForbidden, "Permission denied: an admin's password can only be changed by that admin")
		return
	}
	if req.NewPassword == nil {
		core.CanvusError(c, http.StatusBadRequest, "new_password is required")
		return
	}
	if self {
		if req.CurrentPassword == nil {
			core.CanvusError(c, http.StatusBadRequest, "current_password is required")
			return
		}
		// Throttled as sign-in is: a stolen session must not be a way to
		// guess the password.
		account, addr := strings.ToLower(u.Email), c.ClientIP()
		if ok, wait := s.Logins.Check(account, addr, s.Now()); !ok {
			c.Header("Retry-After", core.RetryAfter(wait))
			core.CanvusError(c, http.StatusTooManyRequests, "Too many failed attempts: retry after "+core.RetryAfter(wait)+" s")
			return
		}
		if !s.ComparePassword(u.PasswordHash, *req.CurrentPassword) {
			s.Logins.Fail(account, addr, s.Now())
			core.CanvusError(c, http.StatusBadRequest, "Invalid current password")
			return
		}
		s.Logins.Succeed(account)
	}
	hash, ok := hashPassword(c, *req.NewPassword)
	if !ok {
		return
	}
	s.updateUser(c, u.ID, "user.password_changed", func(cur *store.User) { cur.PasswordHash = hash })
}

// updateUser applies set to user id as stored now, stores it with an audit
// event of action, and answers the user.
func (s *API) updateUser(c *gin.Context, id uint64, action string, set func(*store.User)) {
	var out *store.User
	err := s.St.Write(func(tx *store.Tx) error {
		cur, err := tx.User(id)
		if err != nil {
			return err
		}
		set(cur)
		out = cur
		return putUserAudited(c, tx, cur, action)
	})
	if err != nil {
		core.CanvusStoreError(c, err, "User")
		return
	}
	c.JSON(http.StatusOK, userJSON(out))
}

// resetMailInterval is the least time between two password reset emails
// to one account.
const resetMailInterval = time.Minute

// CreateResetToken answers 200 whether or not the email belongs to a user,
// so that it cannot be used to find out who has an account; it sends at
// most one email per account per resetMailInterval.
func (s *API) CreateResetToken(c *gin.Context) {
	var req struct {
		Email string `json:"email"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if strings.TrimSpace(req.Email) == "" {
		core.CanvusError(c, http.StatusBadRequest, "email is required")
		return
	}
	var plain string
	var user *store.User
	err := s.St.Write(func(tx *store.Tx) error {
		plain, user = "", nil
		u, err := tx.UserByEmail(req.Email)
		if err != nil || u.Blocked || u.ID == store.GuestUserID {
			return nil
		}
		// One email per account per resetMailInterval: the endpoint is
		// public, and must not be a way to flood someone's mailbox.
		if tx.RecentUserToken(u.ID, store.UserTokenReset, tx.Now().Add(-resetMailInterval)) {
			return nil
		}
		if plain, err = tx.CreateUserToken(u.ID, store.UserTokenReset, s.Cfg.PasswordResetTTL); err != nil {
			return err
		}
		user = u
		return tx.AppendAudit(userAudit(c, "user.password_reset_requested", u, nil))
	})
	if err != nil {
		core.CanvusStoreError(c, err, "User")
		return
	}
	if user != nil {
		link := s.publicBase(c) + "/reset-password?token=" + url.QueryEscape(plain)
		err := s.sendMail(c, accountMail{to: user.Email, kind: store.UserTokenReset, link: link,
			subject: "Reset your password",
			text: "Someone asked to reset the password of " + user.Email + ".\n\nSet a new password with this link:\n" + link +
				"\n\nor with this token: " + plain + "\n\nIf it was not you, ignore this email.\n"})
		if err != nil {
			c.Error(err)
			core.CanvusError(c, http.StatusBadGateway, "The password reset email could not be sent")
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *API) ValidateResetToken(c *gin.Context) {
	err := s.St.View(func(tx *store.Tx) error {
		_, err := tx.UserToken(c.Query("token"), store.UserTokenReset)
		return err
	})
	if storeFailed(c, err, http.StatusBadRequest, "Invalid token", "Token") {
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// ResetPassword sets the password of the token's user, confirms their
// email (the token came by email) and signs out their sessions.
func (s *API) ResetPassword(c *gin.Context) {
	var req struct {
		Token    string  `json:"token"`
		Password *string `json:"password"`
	}
	if !core.CanvusJSON(c, &req) {
		return
	}
	if req.Password == nil {
		core.CanvusError(c, http.StatusBadRequest, "password is required")
		return
	}
	hash, ok := hashPassword(c, *req.Password)
	if !ok {
		return
	}
	err := s.St.Write(func(tx *store.Tx) error {
		u, err := consumeTokenUser(tx, req.Token, store.UserTokenReset)
		if err != nil {
			return err
		}
		u.PasswordHash, u.NeedEmailConfirmation = hash, false
		if err := tx.PutUser(u); err != nil {
			return err
		}
		toks, err := tx.Tokens(u.ID)
		if err != nil {
			return err
		}
		for _, tk := range toks {
			if tk.Login {
				if err := tx.DeleteToken(tk.ID); err != nil {
					return err
				}
			}
		}
		return tx.AppendAudit(userAudit(c, "user.password_reset", u, nil))
	})
	if storeFailed(c, err, http.StatusBadRequest, "Invalid token", "User") {
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// putUserAudited stores u inside a write transaction with an audit event
// of action (no details).
func putUserAudited(c *gin.Context, tx *store.Tx, u *store.User, action string) error {
	if err := tx.PutUser(u); err != nil {
		return err
	}
	return tx.AppendAudit(userAudit(c, action, u, nil))
}

// consumeTokenUser spends an emailed token of this kind (inside a write
// transaction) and loads its user.
func consumeTokenUser(tx *store.Tx, token, kind string) (*store.User, error) {
	ut, err := tx.ConsumeUserToken(token, kind)
	if err != nil {
		return nil, err
	}
	return tx.User(ut.UserID)
}

// SAMLLogin answers as a Canvus server with SAML sign-in disabled.
func (s *API) SAMLLogin(c *gin.Context) {
	core.CanvusError(c, http.StatusForbidden, "SAML sign-in is not enabled")
}

// signInRefused says why u may not sign in with a password although the
// password is right ("" when they may): password sign-in turned off in the
// server config (admins excepted, so that it can be turned back on), an
// email address not yet confirmed, or an account not yet approved.
func (s *API) signInRefused(u *store.User) string {
	var cfg store.ServerConfig
	if err := s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return }); err != nil {
		return "Server configuration unreadable"
	}
	switch {
	case !cfg.Authentication.Password.Enabled && !u.Admin:
		return "Sign-in using a password is not enabled"
	case u.NeedEmailConfirmation:
		return "Email address is not confirmed"
	case !u.Approved:
		return "User is not approved yet"
	}
	return ""
}

// tokenAudit is the audit event of a change to access token tk.
func tokenAudit(c *gin.Context, action string, tk *store.Token) store.AuditEvent {
	return store.AuditEvent{AuthorID: authorOf(c), Action: action, TargetType: "access_token", TargetID: tk.ID,
		Details: map[string]any{"user_id": tk.UserID, "description": tk.Description}}
}

// userChanges lists what a PATCH /users/:id changed, for the audit log
// (never the password itself).
func userChanges(req userReq) map[string]any {
	d := map[string]any{}
	if req.Email != nil {
		d["email"] = *req.Email
	}
	if req.Name != nil {
		d["name"] = *req.Name
	}
	if req.Admin != nil {
		d["admin"] = *req.Admin
	}
	if req.Approved != nil {
		d["approved"] = *req.Approved
	}
	if req.Blocked != nil {
		d["blocked"] = *req.Blocked
	}
	if req.Password != nil {
		d["password"] = "changed"
	}
	return d
}
