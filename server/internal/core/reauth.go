package core

import (
	"maps"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// Identity is what the auth middleware put on a request (its user, token,
// canvas and access), kept so that a live stream can run its GET again
// later as the same caller; see Identity.Apply.
type Identity struct{ keys map[any]any }

// IdentityOf copies the request's identity.
func IdentityOf(c *gin.Context) Identity {
	return Identity{keys: maps.Clone(c.Keys)}
}

// Apply gives dst the identity as it is now: user u (the stream's
// re-checked user, nil if anonymous) and, for a canvas-scoped request, the
// canvas as stored now and u's access to it. It returns false when u can no
// longer see that canvas (or it is gone): the GET would not answer.
func (s *Server) Apply(id Identity, dst *gin.Context, u *store.User) bool {
	dst.Keys = maps.Clone(id.keys)
	if dst.Keys == nil {
		dst.Keys = map[any]any{}
	}
	if u != nil {
		dst.Keys[ctxUser] = u
	} else {
		delete(dst.Keys, ctxUser)
	}
	if cv, ok := id.keys[ctxCanvas].(*store.Canvas); ok {
		fresh, err := s.loadCanvas(cv.ID)
		if err != nil {
			return false
		}
		access := fresh.AccessFor(u)
		if access == store.AccessNone {
			return false
		}
		dst.Keys[ctxCanvas] = fresh
		dst.Keys[ctxAccess] = access
	}
	return true
}
