package store

import (
	"errors"
	"testing"
	"time"
)

func TestUserTokensSingleUseExpireHashed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openTestStore(t, Options{Now: clock})
	u := &User{Email: "a@example.com", Name: "A"}
	mustWrite(t, s, func(tx *Tx) error { return tx.CreateUser(u) })

	var plain, second string
	mustWrite(t, s, func(tx *Tx) (err error) { plain, err = tx.CreateUserToken(u.ID, UserTokenReset, time.Hour); return })
	// Stored hashed: the plain value is no key and appears in no value.
	s.View(func(tx *Tx) error {
		b := tx.btx.Bucket(bucketUserTokens)
		if b.Get([]byte(plain)) != nil || b.Get([]byte(HashToken(plain))) == nil {
			t.Fatal("token is not stored under its hash")
		}
		return nil
	})
	// Of the right kind only; validating does not consume.
	s.View(func(tx *Tx) error {
		if _, err := tx.UserToken(plain, UserTokenConfirm); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reset token accepted as confirmation: %v", err)
		}
		for range 2 {
			if ut, err := tx.UserToken(plain, UserTokenReset); err != nil || ut.UserID != u.ID {
				t.Fatalf("validate: %v %v", ut, err)
			}
		}
		return nil
	})
	mustWrite(t, s, func(tx *Tx) error { _, err := tx.ConsumeUserToken(plain, UserTokenReset); return err })
	err := s.Write(func(tx *Tx) error { _, err := tx.ConsumeUserToken(plain, UserTokenReset); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	// A new token replaces the user's older one of the same kind.
	mustWrite(t, s, func(tx *Tx) (err error) { plain, err = tx.CreateUserToken(u.ID, UserTokenReset, time.Hour); return })
	mustWrite(t, s, func(tx *Tx) (err error) { second, err = tx.CreateUserToken(u.ID, UserTokenReset, time.Hour); return })
	s.View(func(tx *Tx) error {
		if _, err := tx.UserToken(plain, UserTokenReset); !errors.Is(err, ErrNotFound) {
			t.Fatal("an older reset token still works")
		}
		if _, err := tx.UserToken(second, UserTokenReset); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	// Expiry.
	now = now.Add(time.Hour)
	s.View(func(tx *Tx) error {
		if _, err := tx.UserToken(second, UserTokenReset); !errors.Is(err, ErrNotFound) {
			t.Fatal("an expired token still works")
		}
		return nil
	})
}

func TestGroupsMembersAndGrants(t *testing.T) {
	s := openTestStore(t, Options{})
	alice, bob := &User{Email: "alice@example.com", Name: "Alice"}, &User{Email: "bob@example.com", Name: "Bob"}
	mustWrite(t, s, func(tx *Tx) error {
		if err := tx.CreateUser(alice); err != nil {
			return err
		}
		return tx.CreateUser(bob)
	})
	g := &Group{Name: "R&D", Description: "devs"}
	mustWrite(t, s, func(tx *Tx) error { return tx.CreateGroup(g) })
	if g.ID != FirstGroupID {
		t.Fatalf("first group id %d", g.ID)
	}
	if err := s.Write(func(tx *Tx) error { return tx.CreateGroup(&Group{Name: "r&d"}) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := s.Write(func(tx *Tx) error { return tx.CreateGroup(&Group{Name: " "}) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty name: %v", err)
	}
	cv := &Canvas{Name: "c", FolderID: HomeFolderID(alice.ID), OwnerID: alice.ID}
	mustWrite(t, s, func(tx *Tx) error {
		if err := tx.CreateCanvas(cv); err != nil {
			return err
		}
		cv.Groups = map[uint64]string{g.ID: AccessEdit}
		return tx.PutCanvas(cv)
	})
	access := func(u *User) string {
		var a string
		s.View(func(tx *Tx) error {
			cur, _ := tx.User(u.ID)
			c, _ := tx.Canvas(cv.ID)
			a = c.AccessFor(cur)
			return nil
		})
		return a
	}
	if a := access(bob); a != AccessNone {
		t.Fatalf("non-member has %s", a)
	}
	mustWrite(t, s, func(tx *Tx) error { return tx.AddGroupMember(g.ID, bob.ID) })
	mustWrite(t, s, func(tx *Tx) error { return tx.AddGroupMember(g.ID, bob.ID) }) // idempotent
	if a := access(bob); a != AccessEdit {
		t.Fatalf("member has %s, want edit", a)
	}
	s.View(func(tx *Tx) error {
		m, err := tx.GroupMembers(g.ID)
		if err != nil || len(m) != 1 || m[0].ID != bob.ID {
			t.Fatalf("members %v %v", m, err)
		}
		all, _ := tx.GroupMembers(AllUsersGroupID)
		if len(all) != 2 {
			t.Fatalf("All Users has %d members, want 2 (not the guest)", len(all))
		}
		return nil
	})
	mustWrite(t, s, func(tx *Tx) error { return tx.DeleteGroup(g.ID) })
	if a := access(bob); a != AccessNone {
		t.Fatalf("after group delete bob has %s", a)
	}
	s.View(func(tx *Tx) error {
		c, _ := tx.Canvas(cv.ID)
		u, _ := tx.User(bob.ID)
		if len(c.Groups) != 0 || len(u.Groups) != 0 {
			t.Fatalf("grant or membership left: %v %v", c.Groups, u.Groups)
		}
		return nil
	})
	if err := s.Write(func(tx *Tx) error { return tx.RemoveGroupMember(g.ID, bob.ID) }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove from deleted group: %v", err)
	}
	if err := s.Write(func(tx *Tx) error { return tx.DeleteGroup(AllUsersGroupID) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("delete All Users: %v", err)
	}
}

func TestGuestBlockedStopsLinkAccess(t *testing.T) {
	s := openTestStore(t, Options{})
	alice := &User{Email: "alice@example.com", Name: "Alice"}
	mustWrite(t, s, func(tx *Tx) error { return tx.CreateUser(alice) })
	cv := &Canvas{Name: "c", FolderID: HomeFolderID(alice.ID), OwnerID: alice.ID, LinkPermission: AccessEdit}
	mustWrite(t, s, func(tx *Tx) error { return tx.CreateCanvas(cv) })
	get := func() *Canvas {
		var c *Canvas
		s.View(func(tx *Tx) (err error) { c, err = tx.Canvas(cv.ID); return })
		return c
	}
	if a := get().AccessFor(nil); a != AccessEdit {
		t.Fatalf("guest has %s before the block", a)
	}
	setBlocked := func(b bool) {
		mustWrite(t, s, func(tx *Tx) error {
			g, err := tx.User(GuestUserID)
			if err != nil {
				return err
			}
			g.Blocked = b
			return tx.PutUser(g)
		})
	}
	setBlocked(true)
	if a := get().AccessFor(nil); a != AccessNone {
		t.Fatalf("blocked guest has %s", a)
	}
	if a := get().AccessFor(alice); a != AccessOwner {
		t.Fatalf("owner has %s", a)
	}
	var list []*Canvas
	s.View(func(tx *Tx) (err error) { list, err = tx.Canvases(); return })
	if len(list) != 1 || list[0].AccessFor(nil) != AccessNone {
		t.Fatal("Canvases ignores the guest block")
	}
	setBlocked(false)
	if a := get().AccessFor(nil); a != AccessEdit {
		t.Fatalf("unblocked guest has %s", a)
	}
}

func TestServerConfigPersists(t *testing.T) {
	dir := t.TempDir()
	s := openTestStoreAt(t, dir, Options{})
	var cfg ServerConfig
	s.View(func(tx *Tx) (err error) { cfg, err = tx.ServerConfig(); return })
	if !cfg.Authentication.Password.Enabled || cfg.Authentication.Password.SignUpEnabled || cfg.Authentication.DomainAllowList == nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg.Authentication.Password.SignUpEnabled = true
	cfg.ServerName = "here"
	mustWrite(t, s, func(tx *Tx) error { return tx.PutServerConfig(cfg) })
	s.Close()
	s = openTestStoreAt(t, dir, Options{})
	var got ServerConfig
	s.View(func(tx *Tx) (err error) { got, err = tx.ServerConfig(); return })
	if !got.Authentication.Password.SignUpEnabled || got.ServerName != "here" {
		t.Fatalf("after reopen: %+v", got)
	}
}
