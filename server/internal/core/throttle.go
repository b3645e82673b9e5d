package core

import (
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Password sign-in throttling (POST /api/v1/users/login with email and
// password). Failures are counted per account (the normalised email, whether
// or not such a user exists, so the throttle says nothing about which emails
// are real) and per client address. Once a key has had its allowance of
// failures within the window (LoginFailuresPerAccount, LoginFailuresPerIP),
// each failure closes it for a delay that doubles with each further failure
// (1 s, 2 s, 4 s, ...), capped at LoginMaxBackoff. While a key is closed, sign-in answers 429 with
// Retry-After and checks no password; refused attempts are not failures, so
// they do not lengthen the delay. A success clears the account's count (not
// the address's: an attacker holding one valid account must not be able to
// reset their address's count by signing in to it).
//
// The cap is what keeps the throttle from locking a real user out for good:
// an account is never closed for longer than LoginMaxBackoff after the last
// counted failure, counts are forgotten after a quiet window, and sessions
// and personal access tokens keep working meanwhile.

// loginThrottleCap bounds each map of a loginThrottle. A full map first drops
// its entries that have gone quiet, then ones that are not closed.
const loginThrottleCap = 50000

type loginThrottle struct {
	mu       sync.Mutex
	free     map[string]int // "acct" / "ip" -> failures allowed before delays
	window   time.Duration
	max      time.Duration
	accounts map[string]*failures
	addrs    map[string]*failures
}

type failures struct {
	n     int       // failures counted in the current window
	last  time.Time // the last counted failure
	until time.Time // closed until then
}

func newLoginThrottle(perAccount, perIP int, window, max time.Duration) *loginThrottle {
	return &loginThrottle{
		free:     map[string]int{"acct": perAccount, "ip": perIP},
		window:   window,
		max:      max,
		accounts: map[string]*failures{},
		addrs:    map[string]*failures{},
	}
}

// Check reports whether a sign-in for account from addr may go ahead now,
// or how long until it may.
func (l *loginThrottle) Check(account, addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := time.Duration(0)
	for _, f := range []*failures{l.accounts[account], l.addrs[addr]} {
		if f != nil && now.Before(f.until) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait == 0, wait
}

// Fail counts a failed sign-in.
func (l *loginThrottle) Fail(account, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count(l.accounts, account, l.free["acct"], now)
	l.count(l.addrs, addr, l.free["ip"], now)
}

// Succeed clears the account's count.
func (l *loginThrottle) Succeed(account string) {
	l.mu.Lock()
	delete(l.accounts, account)
	l.mu.Unlock()
}

func (l *loginThrottle) count(m map[string]*failures, key string, free int, now time.Time) {
	f := m[key]
	if f != nil && now.Sub(f.last) > l.window && !now.Before(f.until) {
		f = nil // quiet for a window: start over
	}
	if f == nil {
		l.makeRoom(m, now)
		f = &failures{}
		m[key] = f
	}
	f.n++
	f.last = now
	if over := f.n - free; over >= 0 {
		d := l.max
		if over < 30 {
			d = min(time.Second<<over, l.max)
		}
		f.until = now.Add(d)
	}
}

// makeRoom keeps len(m) below loginThrottleCap.
func (l *loginThrottle) makeRoom(m map[string]*failures, now time.Time) {
	if len(m) < loginThrottleCap {
		return
	}
	for k, f := range m {
		if now.Sub(f.last) > l.window && !now.Before(f.until) {
			delete(m, k)
		}
	}
	for k, f := range m {
		if len(m) < loginThrottleCap {
			return
		}
		if !now.Before(f.until) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < loginThrottleCap {
			return
		}
		delete(m, k)
	}
}

// DummyPasswordHash is a bcrypt hash at bcrypt.DefaultCost (the cost
// HashPassword uses) of a password nobody types. Sign-in compares against it
// when the email is unknown or has no password, so that an unknown email
// costs as much as a wrong password.
const DummyPasswordHash = "$2a$10$PnJRf1U8vthROZoBk5knE.R65WeF.4dIzimCapKHKzWw8mSn6WlMC"

// ComparePassword runs one bcrypt comparison (hash nil: the dummy one) and
// counts it.
func (s *Server) ComparePassword(hash []byte, pw string) bool {
	s.PwCompares.Add(1)
	if len(hash) == 0 {
		bcrypt.CompareHashAndPassword([]byte(DummyPasswordHash), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}
