package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Websocket close codes of our own.
const (
	// StatusSlowConsumer closes a viewer whose queue overflowed. The reason
	// carries "last_seq=N": reconnect with ?since=N to miss nothing.
	StatusSlowConsumer websocket.StatusCode = 4008
	// StatusAccessRevoked closes a viewer who lost view access.
	StatusAccessRevoked websocket.StatusCode = 4003
	// StatusTooManySockets refuses a user over the per-user websocket cap.
	StatusTooManySockets websocket.StatusCode = 4029

	wsProtocol    = "canvasd.v1"
	wsTokenPrefix = "token."
)

// viewer is one websocket viewer as other viewers see it.
type viewer struct {
	ID     string `json:"id"`
	UserID uint64 `json:"user_id"`
	Name   string `json:"name"`
	Color  string `json:"color"`
}

var viewerColors = []string{"#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0ca678", "#d6336c", "#4263eb"}

func colorFor(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return viewerColors[h.Sum32()%uint32(len(viewerColors))]
}

// viewers of every canvas, for HELLO.
var viewerInfo sync.Map // viewer id -> viewer

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

func (s *Server) wsAcquire(u *store.User) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	id := idOf(u)
	if s.wsByUser[id] >= s.cfg.MaxWebsocketsPerUser {
		return false
	}
	s.wsByUser[id]++
	return true
}

func (s *Server) wsRelease(u *store.User) {
	s.wsMu.Lock()
	s.wsByUser[idOf(u)]--
	s.wsMu.Unlock()
}

func (s *Server) websocket(c *gin.Context) {
	u := userOf(c)
	cv := canvasOf(c)
	var since *uint64
	if v, ok := c.GetQuery("since"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			canvusError(c, http.StatusBadRequest, "since must be a non-negative integer")
			return
		}
		since = &n
	}
	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{
		Subprotocols:   []string{wsProtocol},
		OriginPatterns: s.cfg.AllowedOrigins,
	})
	if err != nil {
		return // Accept has answered (403 for a bad origin)
	}
	defer conn.CloseNow()
	if !s.wsAcquire(u) {
		conn.Close(StatusTooManySockets, "too many websockets for this user")
		return
	}
	defer s.wsRelease(u)
	conn.SetReadLimit(s.cfg.MaxWSMessage)
	s.streams.Add(1)
	defer s.streams.Done()
	streamsOpen.WithLabelValues("websocket").Inc()
	defer streamsOpen.WithLabelValues("websocket").Dec()

	me := viewer{ID: "v-" + store.RandomToken(8), UserID: idOf(u), Name: nameOf(u)}
	me.Color = colorFor(me.ID)

	head := s.st.HeadSeq(cv.ID)
	resync := false
	from := head
	if since != nil {
		from = *since
	}
	sub, err := s.hub.Subscribe(cv.ID, &from, me.ID)
	if errors.Is(err, hub.ErrTooOld) {
		resync = true
		head = s.st.HeadSeq(cv.ID)
		sub, err = s.hub.Subscribe(cv.ID, &head, me.ID)
	}
	if err != nil {
		conn.Close(websocket.StatusInternalError, "subscribe failed")
		return
	}
	defer sub.Close()
	viewerInfo.Store(me.ID, me)
	defer viewerInfo.Delete(me.ID)

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	write := func(data []byte) error {
		wctx, wcancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		defer wcancel()
		return conn.Write(wctx, websocket.MessageText, data)
	}

	viewers := []viewer{}
	for _, id := range s.hub.Viewers(cv.ID) {
		if v, ok := viewerInfo.Load(id); ok && id != me.ID {
			viewers = append(viewers, v.(viewer))
		}
	}
	hello, _ := json.Marshal(map[string]any{"type": "HELLO", "canvas_id": cv.ID, "seq": head, "since": from,
		"viewers": viewers, "you": me, "access": accessOf(c)})
	if write(hello) != nil {
		return
	}
	if resync {
		msg, _ := json.Marshal(map[string]any{"type": "RESYNC", "canvas_id": cv.ID, "seq": head,
			"reason": fmt.Sprintf("since=%d is older than the event log; reload the canvas", from)})
		if write(msg) != nil {
			return
		}
	}
	s.broadcastViewer(cv.ID, "VIEWER_JOINED", me)
	defer s.broadcastViewer(cv.ID, "VIEWER_LEFT", me)

	// Reader: presence and pings. A viewer that sends nothing keeps it idle.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		s.wsRead(ctx, conn, cv.ID, me, write)
	}()

	var lastSeq uint64 = from
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			var slow *hub.SlowError
			switch {
			case errors.As(err, &slow):
				conn.Close(StatusSlowConsumer, fmt.Sprintf("slow consumer: last_seq=%d", slow.LastSeq))
			case s.ctx.Err() != nil || errors.Is(err, hub.ErrClosed):
				conn.Close(websocket.StatusGoingAway, "server shutting down")
			}
			return
		}
		if m.Seq > 0 {
			lastSeq = m.Seq
		}
		if bytes.Contains(m.Data, []byte(`"canvas":{`)) {
			// A canvas change may revoke this viewer's access.
			var cur *store.Canvas
			s.st.View(func(tx *store.Tx) (err error) { cur, err = tx.Canvas(cv.ID); return })
			if cur == nil || cur.AccessFor(u) == store.AccessNone {
				write(m.Data)
				conn.Close(StatusAccessRevoked, fmt.Sprintf("access revoked: last_seq=%d", lastSeq))
				return
			}
		}
		if err := write(m.Data); err != nil {
			return
		}
	}
}

// clientMsg is what a browser may send.
type clientMsg struct {
	Type      string                  `json:"type"`
	Cursor    *struct{ X, Y float64 } `json:"cursor"`
	Selection []string                `json:"selection"`
	Extra     json.RawMessage         `json:"-"`
}

// parseClientMsg validates a client message.
func parseClientMsg(data []byte) (clientMsg, error) {
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("invalid JSON: %w", err)
	}
	switch m.Type {
	case "PRESENCE":
		if len(m.Selection) > 1000 {
			return m, errors.New("selection too long")
		}
		for _, id := range m.Selection {
			if len(id) > 64 {
				return m, errors.New("selection ids must be widget ids")
			}
		}
	case "PING":
	case "":
		return m, errors.New("type is required")
	default:
		return m, fmt.Errorf("unknown message type %q", m.Type)
	}
	return m, nil
}

func (s *Server) wsRead(ctx context.Context, conn *websocket.Conn, canvasID string, me viewer, write func([]byte) error) {
	lim := rate.NewLimiter(rate.Limit(s.cfg.PresenceRate), int(s.cfg.PresenceRate))
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return // closed, too big (coder/websocket closes with 1009), or ctx
		}
		if typ != websocket.MessageText {
			conn.Close(websocket.StatusUnsupportedData, "text messages only")
			return
		}
		m, err := parseClientMsg(data)
		if err != nil {
			msg, _ := json.Marshal(map[string]string{"type": "ERROR", "msg": err.Error()})
			write(msg)
			continue
		}
		switch m.Type {
		case "PING":
			write([]byte(`{"type":"PONG"}`))
		case "PRESENCE":
			// Throttle before touching the hub; excess presence is dropped.
			if !lim.Allow() {
				continue
			}
			out := map[string]any{"type": "PRESENCE", "canvas_id": canvasID, "viewer": me, "at": time.Now().UTC().Format(time.RFC3339Nano)}
			if m.Cursor != nil {
				out["cursor"] = map[string]float64{"x": m.Cursor.X, "y": m.Cursor.Y}
			}
			if m.Selection != nil {
				out["selection"] = m.Selection
			}
			data, _ := json.Marshal(out)
			s.hub.Publish(hub.Message{Canvas: canvasID, Data: data, From: me.ID})
		}
	}
}

func (s *Server) broadcastViewer(canvasID, typ string, v viewer) {
	data, _ := json.Marshal(map[string]any{"type": typ, "canvas_id": canvasID, "viewer": v})
	s.hub.Publish(hub.Message{Canvas: canvasID, Data: data, From: v.ID})
}
