package canvus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/internal/wsfan"
	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// viewer is one websocket viewer as other viewers see it.
type viewer struct {
	ID     string `json:"id"`
	UserID uint64 `json:"user_id"`
	Name   string `json:"name"`
	Color  string `json:"color"`
}

var viewerColors = []string{"#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0ca678", "#d6336c", "#4263eb"}

// pickColor gives a joining viewer the colour fewest viewers of the canvas
// already have, so cursors stay distinguishable; ties go by a hash of the id.
func pickColor(id string, others []viewer) string {
	used := map[string]int{}
	for _, v := range others {
		used[v.Color]++
	}
	start := colorIndex(id)
	best, bestN := viewerColors[start], -1
	for i := range viewerColors {
		c := viewerColors[(start+i)%len(viewerColors)]
		if n := used[c]; bestN < 0 || n < bestN {
			best, bestN = c, n
		}
	}
	return best
}

func colorIndex(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(len(viewerColors)))
}

func (s *API) Websocket(c *gin.Context) {
	u := core.UserOf(c)
	cv := core.CanvasOf(c)
	access := core.AccessOf(c)
	var since *uint64
	if v, ok := c.GetQuery("since"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			core.CanvusError(c, http.StatusBadRequest, "since must be a non-negative integer")
			return
		}
		since = &n
	}
	conn, fc, err := wsfan.Accept(c.Writer, c.Request, &websocket.AcceptOptions{
		Subprotocols:   []string{core.WsProtocol},
		OriginPatterns: s.Cfg.AllowedOrigins,
	})
	if err != nil {
		return // Accept has answered (403 for a bad origin)
	}
	live, ok := s.OpenStream(c, cv.ID, true)
	if !ok {
		conn.Close(core.StatusTooManySockets, "too many streams for this user or address")
		return
	}
	conn.SetReadLimit(s.Cfg.MaxWSMessage)
	ws := &wsSession{s: s, conn: conn, fc: fc, user: u, canvas: cv.ID, live: live}
	ws.fan = s.Fan.NewSession(fc, ws, s.Cfg.WriteTimeout)
	ws.me = viewer{ID: "v-" + store.RandomToken(8), UserID: core.IDOf(u), Name: core.NameOf(u)}
	s.Streams.Add(1)
	s.Metrics.StreamsOpen.WithLabelValues("websocket").Inc()
	if !ws.start(since, access) {
		ws.finish(false)
		return
	}
	// The handler returns here. The session lives on in one goroutine, the
	// reader; its writes are made by the server's writer pool (s.Fan) when
	// the hub wakes it, so an idle viewer parks no writer goroutine and
	// does not keep the request's deep stack and gin context alive.
	ws.pending.Store(2) // the reader, and the pool's side (ended by Fill's close or Broken)
	ws.stopWake = context.AfterFunc(ws.ctx, ws.fan.Wake)
	go ws.readLoop()
	ws.fan.Start()
}

// wsSession is one websocket viewer after the handshake. It is the pool's
// wsfan.Source: Fill drains the subscription and decides when to close.
type wsSession struct {
	s        *API
	conn     *websocket.Conn // reads, control frames, the close handshake
	fc       *wsfan.Conn     // the hijacked connection beneath: event frames
	fan      *wsfan.Session
	user     *store.User
	live     *core.LiveStream // credentials re-check and the stream cap's slot
	canvas   string
	me       viewer
	sub      *hub.Subscription
	ctx      context.Context // the writer's: ends on shutdown or when the reader ends
	cancel   context.CancelFunc
	rctx     context.Context // the reader's: ends only after the writer has closed the socket
	rcancel  context.CancelFunc
	stopWake func() bool
	lastSeq  uint64
	joined   bool // VIEWER_JOINED was announced, so VIEWER_LEFT is owed
	announce bool
	pending  atomic.Int32 // sides still running; the last one cleans up

	mu    sync.Mutex
	reply [][]byte // frames the reader queued (PONG, ERROR)
	msgs  []hub.Message
}

// write sends one message before the session joins the writer pool (HELLO,
// RESYNC), with the write deadline.
func (ws *wsSession) write(data []byte) error {
	return ws.fc.WriteFrames(wsfan.Frame(data), ws.s.Cfg.WriteTimeout)
}

// send queues a reply of the reader for the writer pool.
func (ws *wsSession) send(data []byte) error {
	f := wsfan.Frame(data)
	ws.mu.Lock()
	ws.reply = append(ws.reply, f)
	ws.mu.Unlock()
	ws.fan.Wake()
	return nil
}

// start subscribes (replaying from since) and sends HELLO (and RESYNC).
func (ws *wsSession) start(since *uint64, access string) bool {
	s := ws.s
	ctx, cancel := context.WithCancelCause(s.Ctx)
	ws.ctx, ws.cancel = ctx, func() { cancel(nil) }
	ws.live.Bind(cancel) // revocation ends the writer with its cause
	// A read with a cancelled context tears the connection down at once, so
	// the reader must outlive the writer's close handshake (1001, 4008...).
	ws.rctx, ws.rcancel = context.WithCancel(context.Background())
	head := s.St.HeadSeq(ws.canvas)
	from := head
	if since != nil {
		from = *since
	}
	sub, err := s.Hub.SubscribeWake(ws.canvas, &from, ws.me.ID, ws.fan.Wake)
	resync := false
	if errors.Is(err, hub.ErrTooOld) {
		resync = true
		head = s.St.HeadSeq(ws.canvas)
		from = head
		sub, err = s.Hub.SubscribeWake(ws.canvas, &head, ws.me.ID, ws.fan.Wake)
	}
	if err != nil {
		ws.conn.Close(websocket.StatusInternalError, "subscribe failed")
		return false
	}
	ws.sub, ws.lastSeq = sub, from
	viewers := []viewer{}
	ids := s.Hub.Viewers(ws.canvas)
	for _, id := range ids {
		if len(viewers) == core.PresenceLimit {
			break
		}
		if v, ok := s.Viewers.Load(id); ok && id != ws.me.ID {
			viewers = append(viewers, v.(viewer))
		}
	}
	// Joins and leaves are announced only on canvases of collaborating
	// groups: on a canvas watched by thousands, announcing every join to
	// every viewer would cost O(N²) messages.
	ws.announce = len(ids) <= core.PresenceLimit
	ws.me.Color = pickColor(ws.me.ID, viewers)
	s.Viewers.Store(ws.me.ID, ws.me)
	hello, _ := json.Marshal(map[string]any{"type": "HELLO", "canvas_id": ws.canvas, "seq": head, "since": from,
		"viewers": viewers, "you": ws.me, "access": access})
	if ws.write(hello) != nil {
		return false
	}
	if resync {
		msg, _ := json.Marshal(map[string]any{"type": "RESYNC", "canvas_id": ws.canvas, "seq": head,
			"reason": "since is older than the event log; reload the canvas"})
		if ws.write(msg) != nil {
			return false
		}
	}
	ws.joined = ws.announce
	if ws.announce {
		s.broadcastViewer(ws.canvas, "VIEWER_JOINED", ws.me)
	}
	return true
}

// finish releases everything once; called by the last side to end.
func (ws *wsSession) finish(joined bool) {
	if ws.cancel != nil {
		ws.cancel()
		ws.rcancel()
	}
	if ws.stopWake != nil {
		ws.stopWake()
	}
	ws.conn.CloseNow()
	if ws.sub != nil {
		ws.sub.Close()
	}
	ws.s.Viewers.Delete(ws.me.ID)
	if joined {
		ws.s.broadcastViewer(ws.canvas, "VIEWER_LEFT", ws.me)
	}
	ws.live.Close()
	ws.s.Metrics.StreamsOpen.WithLabelValues("websocket").Dec()
	ws.s.Streams.Done()
}

func (ws *wsSession) done() {
	if ws.pending.Add(-1) == 0 {
		ws.finish(ws.joined)
	}
}

// Fill is the writer side, run by the pool when the session was woken: it
// queues the reader's replies and the subscription's messages, and returns
// the close to make once they are written (revocation, slow consumer,
// shutdown, or the reader's end).
func (ws *wsSession) Fill(b *wsfan.Batch) func() {
	s := ws.s
	ws.mu.Lock()
	for _, f := range ws.reply {
		b.Add(f)
	}
	clear(ws.reply)
	ws.reply = ws.reply[:0]
	ws.mu.Unlock()

	msgs, err := ws.sub.Drain(ws.msgs[:0])
	defer func() {
		clear(msgs)
		if cap(msgs) > 64 {
			msgs = nil // release what a burst grew
		}
		ws.msgs = msgs[:0]
	}()
	if err == nil && len(msgs) == 0 && ws.ctx.Err() != nil {
		err = ws.ctx.Err()
	}
	if err != nil {
		var slow *hub.SlowError
		switch end := core.StreamEnd(ws.ctx); {
		case end != nil:
			return ws.closeWith(ws.revokedClose(end))
		case errors.As(err, &slow):
			return ws.closeWith(core.StatusSlowConsumer, fmt.Sprintf("slow consumer: last_seq=%d", slow.LastSeq))
		case s.Ctx.Err() != nil || errors.Is(err, hub.ErrClosed):
			return ws.closeWith(websocket.StatusGoingAway, "server shutting down")
		}
		return ws.closeWith(-1, "") // the reader ended: no close frame to send
	}
	for _, m := range msgs {
		if err := ws.live.Check(); err != nil {
			return ws.closeWith(ws.revokedClose(err))
		}
		if m.Seq > 0 {
			ws.lastSeq = m.Seq
		}
		revoked := false
		if bytes.Contains(m.Data, []byte(`"canvas":{`)) {
			// A canvas change may revoke this viewer's access.
			var cur *store.Canvas
			s.St.View(func(tx *store.Tx) (err error) { cur, err = tx.Canvas(ws.canvas); return })
			revoked = cur == nil || cur.AccessFor(ws.user) == store.AccessNone
		}
		if m.Frame != nil {
			b.Add(m.Frame) // framed once for every viewer
		} else {
			b.AddText(m.Data) // replayed: framed here, not copied
		}
		if revoked {
			return ws.closeWith(core.StatusAccessRevoked, fmt.Sprintf("access revoked: last_seq=%d", ws.lastSeq))
		}
	}
	if len(msgs) > 0 && ws.ctx.Err() != nil {
		ws.fan.Wake() // ended meanwhile: come back for the close once these are out
	}
	return nil
}

// closeWith returns the end of the writer side: the close handshake with
// code (none for -1), then the reader may stop.
func (ws *wsSession) closeWith(code websocket.StatusCode, reason string) func() {
	return func() {
		ws.cancel()
		if code >= 0 {
			ws.conn.Close(code, reason)
		}
		ws.rcancel() // after the close handshake
		ws.done()
	}
}

// Broken ends the writer side after a failed write.
func (ws *wsSession) Broken(error) {
	ws.cancel()
	ws.rcancel()
	ws.conn.CloseNow()
	ws.done()
}

// revokedClose is the close of a viewer whose credentials (4001) or canvas
// access (4003) were revoked.
func (ws *wsSession) revokedClose(why error) (websocket.StatusCode, string) {
	if errors.Is(why, core.ErrStreamForbidden) {
		return core.StatusAccessRevoked, fmt.Sprintf("access revoked: last_seq=%d", ws.lastSeq)
	}
	return core.StatusUnauthorized, fmt.Sprintf("credentials revoked: last_seq=%d", ws.lastSeq)
}

func (ws *wsSession) readLoop() {
	defer ws.done()
	defer ws.cancel()
	ws.s.wsRead(ws.rctx, ws.conn, ws.canvas, ws.me, ws.send)
}

// clientMsg is what a browser may send.
type clientMsg struct {
	Type      string                  `json:"type"`
	Cursor    *struct{ X, Y float64 } `json:"cursor"`
	Selection []string                `json:"selection"`
	// Editing is the widget id whose text the viewer is editing ("" = none);
	// relayed to the other viewers, never stored.
	Editing *string `json:"editing"`
	// Draft is the text the viewer has typed so far in the widget it is
	// editing (live typing); relayed with editing, never stored.
	Draft *string         `json:"draft"`
	Extra json.RawMessage `json:"-"`
}

// MaxDraftBytes bounds a PRESENCE draft (the text being typed); longer
// drafts are not sent live, the saved text still is.
const MaxDraftBytes = 16 << 10

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
		if m.Editing != nil && len(*m.Editing) > 64 {
			return m, errors.New("editing must be a widget id")
		}
		if m.Draft != nil && len(*m.Draft) > MaxDraftBytes {
			return m, errors.New("draft too long")
		}
	case "PING":
	case "":
		return m, errors.New("type is required")
	default:
		return m, fmt.Errorf("unknown message type %q", m.Type)
	}
	return m, nil
}

func (s *API) wsRead(ctx context.Context, conn *websocket.Conn, canvasID string, me viewer, write func([]byte) error) {
	var lim *rate.Limiter // made on the first PRESENCE: most viewers never send one
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
			if lim == nil {
				lim = rate.NewLimiter(rate.Limit(s.Cfg.PresenceRate), int(s.Cfg.PresenceRate))
			}
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
			if m.Editing != nil {
				out["editing"] = *m.Editing
				if m.Draft != nil && *m.Draft != "" && *m.Editing != "" {
					out["draft"] = *m.Draft
				}
			}
			data, _ := json.Marshal(out)
			s.Hub.Publish(hub.Message{Canvas: canvasID, Data: data, From: me.ID})
		}
	}
}

func (s *API) broadcastViewer(canvasID, typ string, v viewer) {
	data, _ := json.Marshal(map[string]any{"type": typ, "canvas_id": canvasID, "viewer": v})
	s.Hub.Publish(hub.Message{Canvas: canvasID, Data: data, From: v.ID})
}
