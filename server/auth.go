package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

const (
	ctxUser   = "canvasd.user"
	ctxToken  = "canvasd.token"
	ctxCanvas = "canvasd.canvas"
	ctxAccess = "canvasd.access"

	// SessionCookie is the cookie the browser client and Canvus use.
	SessionCookie = "CanvusSession"
)

var errUnauthenticated = errors.New("unauthenticated")

// authenticate resolves a plain token to its user. Blocked users and expired
// tokens are refused.
func (s *Server) authenticate(plain string) (*store.User, *store.Token, error) {
	var u *store.User
	var tk *store.Token
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		if tk, err = tx.TokenByPlain(plain); err != nil {
			return errUnauthenticated
		}
		if u, err = tx.User(tk.UserID); err != nil || u.Blocked {
			return errUnauthenticated
		}
		return nil
	})
	return u, tk, err
}

// canvusToken returns the token of a Canvus request: Private-Token header,
// else the CanvusSession cookie.
func canvusToken(c *gin.Context) string {
	if t := strings.TrimSpace(c.GetHeader("Private-Token")); t != "" {
		return t
	}
	if ck, err := c.Cookie(SessionCookie); err == nil && ck != "" {
		return ck
	}
	return wsProtocolToken(c)
}

// bearerToken returns the token of an "Authorization: Bearer" request.
func bearerToken(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func userOf(c *gin.Context) *store.User {
	u, _ := c.Get(ctxUser)
	uu, _ := u.(*store.User)
	return uu
}

func tokenOf(c *gin.Context) *store.Token {
	t, _ := c.Get(ctxToken)
	tt, _ := t.(*store.Token)
	return tt
}

func canvasOf(c *gin.Context) *store.Canvas {
	v, _ := c.Get(ctxCanvas)
	cv, _ := v.(*store.Canvas)
	return cv
}

func accessOf(c *gin.Context) string { return c.GetString(ctxAccess) }

// canvusAuth authenticates a Canvus request. With optional, a request without
// a token goes on anonymously (a canvas's link permission may let it in).
func (s *Server) canvusAuth(optional bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		plain := canvusToken(c)
		if plain == "" {
			if optional {
				c.Next()
				return
			}
			canvusError(c, http.StatusUnauthorized, "Missing access token")
			return
		}
		u, tk, err := s.authenticate(plain)
		if err != nil {
			canvusError(c, http.StatusUnauthorized, "Invalid access token")
			return
		}
		c.Set(ctxUser, u)
		c.Set(ctxToken, tk)
		c.Next()
	}
}

// bearerAuth authenticates a request of the deal-canvas or crop-job dialects.
func (s *Server) bearerAuth(fail func(*gin.Context, int, string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		plain := bearerToken(c)
		if plain == "" {
			c.Header("WWW-Authenticate", "Bearer")
			fail(c, http.StatusUnauthorized, "Not authenticated")
			return
		}
		u, tk, err := s.authenticate(plain)
		if err != nil {
			c.Header("WWW-Authenticate", "Bearer")
			fail(c, http.StatusUnauthorized, "Invalid or expired token")
			return
		}
		c.Set(ctxUser, u)
		c.Set(ctxToken, tk)
		c.Next()
	}
}

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete || method == http.MethodPut
}

// canvasAccess loads the canvas named by :id and checks the caller's right:
// view for reads, edit for writes. fail answers in the route's dialect.
func (s *Server) canvasAccess(fail func(*gin.Context, int, string), need string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := userOf(c)
		var cv *store.Canvas
		err := s.st.View(func(tx *store.Tx) error {
			var err error
			cv, err = tx.Canvas(c.Param("id"))
			return err
		})
		if err != nil {
			if u == nil {
				fail(c, http.StatusUnauthorized, "Missing access token")
				return
			}
			fail(c, http.StatusNotFound, "Canvas not found")
			return
		}
		access := cv.AccessFor(u)
		want := need
		if want == "" {
			want = store.AccessView
			if isWrite(c.Request.Method) {
				want = store.AccessEdit
			}
		}
		if store.AccessRank(access) < store.AccessRank(want) {
			if u == nil && access == store.AccessNone {
				fail(c, http.StatusUnauthorized, "Missing access token")
				return
			}
			if access == store.AccessNone {
				fail(c, http.StatusForbidden, "Permission denied")
				return
			}
			fail(c, http.StatusForbidden, "Permission denied: "+want+" access required")
			return
		}
		c.Set(ctxCanvas, cv)
		c.Set(ctxAccess, access)
		c.Next()
	}
}

// requireUser refuses anonymous requests (after an optional canvusAuth).
func requireUser(c *gin.Context) bool {
	if userOf(c) == nil {
		canvusError(c, http.StatusUnauthorized, "Missing access token")
		return false
	}
	return true
}
