package store

// Issue 13, accounts: Open repairs an email index left inconsistent by
// earlier builds (defect 10) and carries per-token credits over to their
// users (defect 9).

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// logSink collects Options.Logf lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}

func TestSecurity10_EmailIndexRepairedAtStart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sq, a, b *User
	err = s.Write(func(tx *Tx) error {
		sq, a, b = &User{Email: "squatter@example.com", Name: "S"}, &User{Email: "a@example.com", Name: "A"}, &User{Email: "b@example.com", Name: "B"}
		for _, u := range []*User{sq, a, b} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// What earlier builds left behind: the squatter's old " x@example.com"
	// still indexed to them, a's entry lost, b stored untrimmed and
	// mixed-case, and an entry for a user that is gone.
	err = s.DB().Update(func(btx *bolt.Tx) error {
		idx, users := btx.Bucket(bucketUserEmail), btx.Bucket(bucketUsers)
		if err := idx.Put([]byte("x@example.com"), itob(sq.ID)); err != nil {
			return err
		}
		if err := idx.Delete([]byte("a@example.com")); err != nil {
			return err
		}
		if err := idx.Put([]byte("ghost@example.com"), itob(999999)); err != nil {
			return err
		}
		b.Email = " B@Example.com "
		return putJSON(users, itob(b.ID), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	var log logSink
	s, err = Open(dir, Options{Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(log.lines) < 4 || !strings.Contains(strings.Join(log.lines, "\n"), "x@example.com") {
		t.Fatalf("repair log: %q", log.lines)
	}
	s.View(func(tx *Tx) error {
		if u, err := tx.UserByEmail("x@example.com"); err == nil {
			t.Fatalf("x@example.com still signs in as %d", u.ID)
		}
		if _, err := tx.UserByEmail("ghost@example.com"); err == nil {
			t.Fatal("ghost entry kept")
		}
		for email, id := range map[string]uint64{"squatter@example.com": sq.ID, "a@example.com": a.ID, "b@example.com": b.ID} {
			u, err := tx.UserByEmail(email)
			if err != nil || u.ID != id || u.Email != email {
				t.Fatalf("%s: %v %v, want user %d with that email", email, u, err, id)
			}
		}
		n := 0
		tx.btx.Bucket(bucketUserEmail).ForEach(func(k, v []byte) error { n++; return nil })
		if n != 3 {
			t.Fatalf("index has %d entries, want 3", n)
		}
		return nil
	})
	// x@example.com is free.
	if err := s.Write(func(tx *Tx) error { return tx.CreateUser(&User{Email: "x@example.com", Name: "X"}) }); err != nil {
		t.Fatalf("create x@example.com: %v", err)
	}
	// A clean store is not touched again.
	s.Close()
	log = logSink{}
	s2, err := Open(dir, Options{Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if len(log.lines) != 0 {
		t.Fatalf("second start repaired %q", log.lines)
	}
}

func TestSecurity09_CreditsMigratedToUsers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var u *User
	var t1, t2, t3 *Token
	err = s.Write(func(tx *Tx) (err error) {
		u = &User{Email: "c@example.com", Name: "C"}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		if _, t1, err = tx.CreateToken(u.ID, "a", "", 0); err != nil {
			return err
		}
		if _, t2, err = tx.CreateToken(u.ID, "b", "", 0); err != nil {
			return err
		}
		_, t3, err = tx.CreateToken(u.ID, "unlimited", "", 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A store of the per-token era: credits on two tokens, none on the third.
	err = s.DB().Update(func(btx *bolt.Tx) error {
		c := btx.Bucket(bucketCredits)
		if err := c.Put([]byte(t1.ID), itob(2)); err != nil {
			return err
		}
		if err := c.Put([]byte(t2.ID), itob(3)); err != nil {
			return err
		}
		return btx.Bucket(bucketMeta).Delete(metaUserCredits)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var log logSink
	s, err = Open(dir, Options{Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(log.lines) != 1 {
		t.Fatalf("migration log %q", log.lines)
	}
	s.View(func(tx *Tx) error {
		if n, ok := tx.UserCredits(u.ID); !ok || n != 5 {
			t.Fatalf("user credits %d %v, want 5", n, ok)
		}
		for tk, want := range map[*Token]int64{t1: 2, t2: 3, t3: 5} {
			if n, ok := tx.Credits(tk); !ok || n != want {
				t.Fatalf("token %s: %d %v, want %d", tk.Description, n, ok, want)
			}
		}
		return nil
	})
	// A new token starts with the user's credits, not unlimited.
	err = s.Write(func(tx *Tx) error {
		_, tk, err := tx.CreateToken(u.ID, "new", "", 0)
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			if _, err := tx.ChargeCredit(tk); err != nil {
				return err
			}
		}
		if _, err := tx.ChargeCredit(t3); err != ErrNoCredits {
			return fmt.Errorf("sixth charge: %v, want ErrNoCredits", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
