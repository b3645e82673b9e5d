package store

import (
	"testing"
	"time"
)

func TestAuditLogMergesCanvasEventsWithAuthors(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	s := openTestStore(t, Options{Now: clock, EventRetention: 3})
	alice, bob := &User{Email: "alice@example.com", Name: "A"}, &User{Email: "bob@example.com", Name: "B"}
	mustWrite(t, s, func(tx *Tx) error {
		if err := tx.CreateUser(alice); err != nil {
			return err
		}
		return tx.CreateUser(bob)
	})
	cv := &Canvas{Name: "c", FolderID: HomeFolderID(alice.ID), OwnerID: alice.ID}
	if err := s.WriteAs(alice.ID, func(tx *Tx) error { return tx.CreateCanvas(cv) }); err != nil {
		t.Fatal(err)
	}
	w := &Widget{ID: "note-1", CanvasID: cv.ID, Type: "Note", Props: map[string]any{"text": "x", "parent_id": cv.RootWidget}}
	if err := s.WriteAs(bob.ID, func(tx *Tx) error {
		if tx.Author() != bob.ID {
			t.Errorf("Author() = %d", tx.Author())
		}
		return tx.CreateWidget(w)
	}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, func(tx *Tx) error {
		return tx.AppendAudit(AuditEvent{AuthorID: alice.ID, Action: "user.signed_in", TargetType: "user", TargetID: "1000"})
	})

	all, err := s.AuditLog(AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Action != "user.signed_in" || all[1].Action != "widget.created" || all[1].AuthorID != bob.ID ||
		all[1].TargetType != "widget" || all[1].TargetID != w.ID || all[2].Action != "canvas.created" || all[2].AuthorID != alice.ID {
		t.Fatalf("audit log: %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.After(all[i-1].CreatedAt) {
			t.Fatal("not newest first")
		}
	}
	byBob, _ := s.AuditLog(AuditQuery{AuthorID: &bob.ID})
	if len(byBob) != 1 || byBob[0].TargetID != w.ID {
		t.Fatalf("author filter: %+v", byBob)
	}
	canv, _ := s.AuditLog(AuditQuery{TargetType: "canvas", TargetID: cv.ID})
	if len(canv) != 1 || canv[0].Action != "canvas.created" {
		t.Fatalf("target filter: %+v", canv)
	}
	window, _ := s.AuditLog(AuditQuery{CreatedAfter: all[2].CreatedAt, CreatedBefore: all[0].CreatedAt})
	if len(window) != 1 || window[0].ID != all[1].ID {
		t.Fatalf("time window: %+v", window)
	}

	// Retention trims authors with their events; a delete is kept.
	for i := range 4 {
		if err := s.WriteAs(alice.ID, func(tx *Tx) error {
			w.Props["text"] = i
			return tx.UpdateWidget(w, EvWidgetUpdated, nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.View(func(tx *Tx) error {
		if n := tx.btx.Bucket(bucketEventAuthors).Bucket([]byte(cv.ID)).Stats().KeyN; n != 3 {
			t.Errorf("authors kept: %d, want 3", n)
		}
		return nil
	})
	if err := s.WriteAs(bob.ID, func(tx *Tx) error { return tx.DeleteCanvas(cv.ID) }); err != nil {
		t.Fatal(err)
	}
	all, _ = s.AuditLog(AuditQuery{})
	if len(all) != 2 || all[0].Action != "canvas.deleted" || all[0].AuthorID != bob.ID || all[0].TargetID != cv.ID {
		t.Fatalf("after delete: %+v", all)
	}
	s.View(func(tx *Tx) error {
		if tx.btx.Bucket(bucketEventAuthors).Bucket([]byte(cv.ID)) != nil {
			t.Error("authors left after the canvas was deleted")
		}
		return nil
	})
}
