package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEvent is one entry of the audit log: who (AuthorID, 0 = nobody
// signed in) did what (Action) to what (TargetType, TargetID), and when.
type AuditEvent struct {
	// ID orders the log; "a<seq>" for the audit bucket, "c<canvas>:<seq>" for canvas events.
	ID         string         `json:"id"`
	CreatedAt  time.Time      `json:"created_at"`
	AuthorID   uint64         `json:"author_id"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Details    map[string]any `json:"details,omitempty"`
}

// AppendAudit records ev (its ID and CreatedAt are set here) in this
// transaction: it is committed with the change it describes, or not at all.
func (t *Tx) AppendAudit(ev AuditEvent) error {
	b := t.btx.Bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	ev.ID = fmt.Sprintf("a%d", seq)
	ev.CreatedAt = t.now
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return b.Put(itob(seq), data)
}

// AuditQuery filters the audit log; zero fields match everything.
type AuditQuery struct {
	CreatedAfter, CreatedBefore time.Time // exclusive bounds
	TargetType, TargetID        string
	AuthorID                    *uint64
}

// match compares times at the bound's precision: a bound in whole
// milliseconds (what the API shows, FormatTime) compares with event times
// cut to milliseconds, so that a created_at read from the log excludes
// that event; a finer bound (the pin of a paged read) compares exactly.
func (q *AuditQuery) match(ev *AuditEvent) bool {
	return (q.CreatedAfter.IsZero() || atPrecision(ev.CreatedAt, q.CreatedAfter).After(q.CreatedAfter)) &&
		(q.CreatedBefore.IsZero() || atPrecision(ev.CreatedAt, q.CreatedBefore).Before(q.CreatedBefore)) &&
		(q.TargetType == "" || ev.TargetType == q.TargetType) &&
		(q.TargetID == "" || ev.TargetID == q.TargetID) &&
		(q.AuthorID == nil || ev.AuthorID == *q.AuthorID)
}

func atPrecision(t, bound time.Time) time.Time {
	if bound.Nanosecond()%int(time.Millisecond) == 0 {
		return t.Truncate(time.Millisecond)
	}
	return t
}

// canvasEventHead is what the audit log reads of a canvas event envelope.
type canvasEventHead struct {
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Widget *struct {
		ID   string `json:"id"`
		Type string `json:"widget_type"`
	} `json:"widget"`
}

// AuditLog returns the audit events q matches, newest first (ties by id,
// descending). They are the audit bucket's (sign-ins, user, token, group,
// permission and server changes, canvas deletions) merged with every
// canvas's event log, each canvas event with the author WriteAs recorded:
// a canvas mutation is in the log as long as its canvas's event log keeps
// it (Options.EventRetention).
func (s *Store) AuditLog(q AuditQuery) ([]AuditEvent, error) {
	var out []AuditEvent
	err := s.db.View(func(btx *bolt.Tx) error {
		if err := btx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			var ev AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("audit event: %w", err)
			}
			if q.match(&ev) {
				out = append(out, ev)
			}
			return nil
		}); err != nil {
			return err
		}
		if q.TargetType != "" && q.TargetType != "canvas" && q.TargetType != "widget" {
			return nil
		}
		events, authorsAll := btx.Bucket(bucketEvents), btx.Bucket(bucketEventAuthors)
		return events.ForEachBucket(func(cid []byte) error {
			canvasID := string(cid)
			authors := authorsAll.Bucket(cid)
			return events.Bucket(cid).ForEach(func(k, v []byte) error {
				var h canvasEventHead
				if err := json.Unmarshal(v, &h); err != nil {
					return fmt.Errorf("canvas %s event %d: %w", canvasID, btoi(k), err)
				}
				seq := btoi(k)
				ev := AuditEvent{ID: "c" + canvasID + ":" + strconv.FormatUint(seq, 10), CreatedAt: h.At,
					Action: auditAction(h.Type, seq), TargetType: "canvas", TargetID: canvasID,
					Details: map[string]any{"canvas_id": canvasID, "seq": seq, "event": h.Type}}
				if h.Widget != nil {
					ev.TargetType, ev.TargetID = "widget", h.Widget.ID
					ev.Details["widget_type"] = h.Widget.Type
				}
				if authors != nil {
					if a := authors.Get(k); a != nil {
						ev.AuthorID = btoi(a)
					}
				}
				if q.match(&ev) {
					out = append(out, ev)
				}
				return nil
			})
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, err
}

// auditAction names a canvas event type as an audit action:
// WIDGET_CREATED -> widget.created; a canvas's first event is canvas.created.
func auditAction(typ string, seq uint64) string {
	if typ == EvCanvasUpdated && seq == 1 {
		return "canvas.created"
	}
	a := strings.ToLower(typ)
	if i := strings.IndexByte(a, '_'); i > 0 {
		a = a[:i] + "." + a[i+1:]
	}
	return a
}
