package core

import (
	"strings"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
)

// Websocket close codes of our own.
const (
	// StatusSlowConsumer closes a viewer whose queue overflowed. The reason
	// carries "last_seq=N": reconnect with ?since=N to miss nothing.
	StatusSlowConsumer websocket.StatusCode = 4008
	// StatusAccessRevoked closes a viewer who lost view access.
	StatusAccessRevoked websocket.StatusCode = 4003
	// StatusUnauthorized closes a viewer whose credentials were revoked
	// (logout, token deleted or expired, user blocked or deleted).
	StatusUnauthorized websocket.StatusCode = 4001
	// StatusTooManySockets refuses a user (or, anonymous, a client IP) over
	// its stream cap.
	StatusTooManySockets websocket.StatusCode = 4029

	WsProtocol = "canvasd.v1"
	// PresenceLimit: above this many viewers on a canvas, HELLO lists only
	// this many and joins/leaves are not announced.
	PresenceLimit = 100
	wsTokenPrefix = "token."
)

// wsProtocolToken returns a token sent as the "token.<TOKEN>" websocket
// subprotocol, the form browsers use (they cannot set headers on a websocket).
func wsProtocolToken(c *gin.Context) string {
	for _, p := range strings.Split(c.GetHeader("Sec-WebSocket-Protocol"), ",") {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, wsTokenPrefix) {
			return p[len(wsTokenPrefix):]
		}
	}
	return ""
}
