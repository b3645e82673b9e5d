package server

// Integration tests of the account flows (accounts.go, mail.go): register,
// confirm email, approve, change and reset password, block and unblock, the
// blocked Guest, and real SMTP delivery to an in-process listener.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// acctLog is a goroutine-safe log sink for a test server.
type acctLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *acctLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *acctLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var acctTokenRE = regexp.MustCompile(`token=([A-Za-z0-9_%-]+)`)

// lastToken is the token of the last link the server logged (or mailed).
func lastToken(t testing.TB, text string) string {
	t.Helper()
	m := acctTokenRE.FindAllStringSubmatch(text, -1)
	if len(m) == 0 {
		t.Fatalf("no link with a token in:\n%s", text)
	}
	tok, err := url.QueryUnescape(m[len(m)-1][1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func withLog(l *acctLog) testEnvOption {
	return func(o *testEnvOpts) { o.log = zerolog.New(l) }
}

func setServerConfig(t testing.TB, e *testEnv, f func(*store.ServerConfig)) {
	t.Helper()
	err := e.Store.Write(func(tx *store.Tx) error {
		cfg, err := tx.ServerConfig()
		if err != nil {
			return err
		}
		f(&cfg)
		return tx.PutServerConfig(cfg)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func login(e *testEnv, email, password string) *testResp {
	return e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": email, "password": password})
}

func TestAccountsRegisterConfirmApprove(t *testing.T) {
	t.Parallel()
	logs := &acctLog{}
	clock := &testClock{}
	e := newTestEnv(t, withLog(logs), withClock(clock))
	reg := func(body map[string]any, token string) *testResp {
		return e.doJSON("POST", "/api/v1/users/register", token, body)
	}
	carol := map[string]any{"email": "carol@example.com", "password": "CCCC", "name": "Carol"}

	// Sign-up is off by default, as the reference's example answers.
	reg(carol, "").expectMsg(t, 403, "Sign-up using a password is not enabled")
	setServerConfig(t, e, func(c *store.ServerConfig) { c.Authentication.Password.SignUpEnabled = true })

	reg(map[string]any{"email": "x@example.com", "password": "CCCC"}, "").expectMsg(t, 400, "name is required")
	reg(map[string]any{"email": "x@example.com", "name": "X"}, "").expectMsg(t, 400, "password is required")
	reg(map[string]any{"email": "not an email", "name": "X", "password": "CCCC"}, "").expectMsg(t, 400, "valid email")
	reg(map[string]any{"email": "x@example.com", "name": "X", "password": "CC"}, "").expectMsg(t, 400, "at least 4")
	reg(map[string]any{"email": "x@example.com", "name": "X", "password": "CCCC", "admin": true}, "").expectMsg(t, 403, "only an admin")
	reg(map[string]any{"email": "x@example.com", "name": "X", "password": "CCCC", "approved": true}, "").expectMsg(t, 403, "only an admin")
	reg(carol, "not-a-token").expect(t, 401)

	setServerConfig(t, e, func(c *store.ServerConfig) { c.Authentication.DomainAllowList = []string{"corp.example"} })
	reg(carol, "").expectMsg(t, 403, "email domain")
	setServerConfig(t, e, func(c *store.ServerConfig) {
		c.Authentication.DomainAllowList = []string{"example.com"}
		c.Authentication.RequireAdminApproval = true
	})

	u := reg(carol, "").expect(t, 200).obj(t)
	if u.str("email") != "carol@example.com" || u.boolean("approved") || u.boolean("admin") {
		t.Fatalf("registered user: %v", u)
	}
	reg(carol, "").expectMsg(t, 400, "already exists")
	id := uint64(u.num("id"))
	tok := lastToken(t, logs.String())
	if !strings.Contains(logs.String(), "confirm-email?token=") {
		t.Fatalf("no confirmation link logged:\n%s", logs)
	}

	// Not yet usable.
	var cur *store.User
	e.Store.View(func(tx *store.Tx) (err error) { cur, err = tx.User(id); return })
	if !cur.NeedEmailConfirmation {
		t.Fatal("a self-registered user needs no confirmation")
	}
	confirm := func(token string) *testResp {
		return e.doJSON("POST", "/api/v1/users/confirm-email", "", map[string]any{"token": token})
	}
	confirm("AAAAAAAAAAAAAAA").expectMsg(t, 400, "Invalid email confirmation token.")
	confirm("").expectMsg(t, 400, "Invalid email confirmation token.")
	confirm(tok).expect(t, 200)
	confirm(tok).expectMsg(t, 400, "Invalid email confirmation token.") // single use
	e.Store.View(func(tx *store.Tx) (err error) { cur, err = tx.User(id); return })
	if cur.NeedEmailConfirmation {
		t.Fatal("confirmation did not stick")
	}

	// Approval: admin only.
	other := e.createUser("other", false)
	e.doJSON("POST", fmt.Sprintf("/api/v1/users/%d/approve", id), other.Token, nil).expect(t, 403)
	e.doJSON("POST", "/api/v1/users/999999/approve", e.Admin, nil).expect(t, 404)
	if got := e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/approve", id), e.Admin, nil, 200); !got.boolean("approved") {
		t.Fatalf("approve: %v", got)
	}

	// A confirmation token expires.
	dave := reg(map[string]any{"email": "dave@example.com", "password": "DDDD", "name": "Dave"}, "").expect(t, 200).obj(t)
	tok = lastToken(t, logs.String())
	clock.Advance(49 * time.Hour)
	confirm(tok).expectMsg(t, 400, "Invalid email confirmation token.")

	// An admin registering someone may make them admin and approved, confirmed.
	adm := reg(map[string]any{"email": "eve@elsewhere.example", "password": "EEEE", "name": "Eve", "admin": true, "approved": true}, e.Admin).expect(t, 200).obj(t)
	if !adm.boolean("admin") || !adm.boolean("approved") || uint64(dave.num("id")) == uint64(adm.num("id")) {
		t.Fatalf("admin registration: %v", adm)
	}
}

func TestAccountsPasswordReset(t *testing.T) {
	t.Parallel()
	logs := &acctLog{}
	clock := &testClock{}
	e := newTestEnv(t, withLog(logs), withClock(clock))
	bob := e.createUserPW("bob", false, "BBBB")
	session := login(e, bob.Email, "BBBB").expect(t, 200).obj(t).str("token")
	e.doJSON("GET", "/api/v1/users", session, nil).expect(t, 200)

	create := func(email any) *testResp {
		return e.doJSON("POST", "/api/v1/users/password/create-reset-token", "", map[string]any{"email": email})
	}
	create("").expectMsg(t, 400, "email is required")
	create(7).expect(t, 400)
	before := logs.String()
	create("nobody@example.com").expect(t, 200) // no account: the same answer, no email
	if strings.Contains(logs.String()[len(before):], "token=") {
		t.Fatal("a reset link was made for an unknown email")
	}
	create(strings.ToUpper(bob.Email)).expect(t, 200)
	tok := lastToken(t, logs.String())
	if !strings.Contains(logs.String(), "reset-password?token=") {
		t.Fatalf("no reset link logged:\n%s", logs)
	}

	validate := func(token string) *testResp {
		return e.do("GET", "/api/v1/users/password/validate-reset-token?token="+url.QueryEscape(token), "", nil, "")
	}
	validate("AAAAAAAAAAAAAAA").expectMsg(t, 400, "Invalid token")
	validate("").expectMsg(t, 400, "Invalid token")
	validate(tok).expect(t, 200)
	validate(tok).expect(t, 200) // validating does not consume

	reset := func(token string, pw any) *testResp {
		return e.doJSON("POST", "/api/v1/users/password/reset", "", map[string]any{"token": token, "password": pw})
	}
	reset("AAAAAAAAAAAAAAA", "DDDD").expectMsg(t, 400, "Invalid token")
	reset(tok, "DD").expectMsg(t, 400, "at least 4")
	e.doJSON("POST", "/api/v1/users/password/reset", "", map[string]any{"token": tok}).expectMsg(t, 400, "password is required")
	reset(tok, "DDDD").expect(t, 200)
	reset(tok, "EEEE").expectMsg(t, 400, "Invalid token") // single use
	validate(tok).expectMsg(t, 400, "Invalid token")

	login(e, bob.Email, "BBBB").expect(t, 401)
	login(e, bob.Email, "DDDD").expect(t, 200)
	// The reset signed the old session out; the personal access token stays.
	e.doJSON("GET", "/api/v1/users", session, nil).expect(t, 401)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 200)

	// A reset token expires.
	create(bob.Email).expect(t, 200)
	tok = lastToken(t, logs.String())
	clock.Advance(61 * time.Minute)
	validate(tok).expectMsg(t, 400, "Invalid token")
	reset(tok, "FFFF").expectMsg(t, 400, "Invalid token")
}

func TestAccountsChangePassword(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUserPW("alice", false, "AAAA")
	bob := e.createUserPW("bob", false, "BBBB")
	admin2 := e.createUserPW("admin2", true, "XXXX")
	path := func(u testUser) string { return fmt.Sprintf("/api/v1/users/%d/password", u.ID) }

	e.doJSON("POST", path(alice), "", map[string]any{"current_password": "AAAA", "new_password": "BBBB"}).expect(t, 401)
	e.doJSON("POST", path(alice), bob.Token, map[string]any{"current_password": "AAAA", "new_password": "BBBB"}).expect(t, 403)
	e.doJSON("POST", path(alice), alice.Token, map[string]any{"new_password": "BBBB"}).expectMsg(t, 400, "current_password is required")
	e.doJSON("POST", path(alice), alice.Token, map[string]any{"current_password": "AAAA"}).expectMsg(t, 400, "new_password is required")
	e.doJSON("POST", path(alice), alice.Token, map[string]any{"current_password": "wrong", "new_password": "BBBB"}).expectMsg(t, 400, "Invalid current password")
	e.doJSON("POST", path(alice), alice.Token, map[string]any{"current_password": "AAAA", "new_password": "B"}).expectMsg(t, 400, "at least 4")
	e.doJSON("POST", "/api/v1/users/999999/password", e.Admin, map[string]any{"new_password": "BBBB"}).expect(t, 404)
	u := e.mustJSON("POST", path(alice), alice.Token, map[string]any{"current_password": "AAAA", "new_password": "A2A2"}, 200)
	if u.str("email") != alice.Email {
		t.Fatalf("answer: %v", u)
	}
	login(e, alice.Email, "AAAA").expect(t, 401)
	login(e, alice.Email, "A2A2").expect(t, 200)

	// An admin sets a regular user's password without the current one, but
	// not another admin's.
	e.mustJSON("POST", path(bob), e.Admin, map[string]any{"new_password": "B2B2"}, 200)
	login(e, bob.Email, "B2B2").expect(t, 200)
	e.doJSON("POST", path(admin2), e.Admin, map[string]any{"new_password": "Y2Y2"}).expectMsg(t, 403, "admin")
	login(e, admin2.Email, "XXXX").expect(t, 200)
}

func TestAccountsBlockUnblock(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUserPW("alice", false, "AAAA")
	bob := e.createUser("bob", false)
	block := func(u testUser, token string) *testResp {
		return e.doJSON("POST", fmt.Sprintf("/api/v1/users/%d/block", u.ID), token, nil)
	}
	unblock := func(u testUser, token string) *testResp {
		return e.doJSON("POST", fmt.Sprintf("/api/v1/users/%d/unblock", u.ID), token, nil)
	}
	block(alice, "").expect(t, 401)
	block(alice, bob.Token).expect(t, 403) // only oneself
	e.doJSON("POST", "/api/v1/users/999999/block", e.Admin, nil).expect(t, 404)

	// Blocking oneself works, and the token stops working at once.
	if u := block(alice, alice.Token).expect(t, 200).obj(t); !u.boolean("blocked") {
		t.Fatalf("block: %v", u)
	}
	e.doJSON("GET", "/api/v1/users", alice.Token, nil).expect(t, 401)
	login(e, alice.Email, "AAAA").expectMsg(t, 403, "blocked")

	unblock(alice, bob.Token).expect(t, 403) // admin only
	unblock(alice, alice.Token).expect(t, 401)
	if u := unblock(alice, e.Admin).expect(t, 200).obj(t); u.boolean("blocked") {
		t.Fatalf("unblock: %v", u)
	}
	e.doJSON("GET", "/api/v1/users", alice.Token, nil).expect(t, 200)
	login(e, alice.Email, "AAAA").expect(t, 200)

	// An admin blocks anyone.
	block(bob, e.Admin).expect(t, 200)
	e.doJSON("GET", "/api/v1/users", bob.Token, nil).expect(t, 401)
}

func TestAccountsBlockedGuestStopsLinkAccess(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	stranger := e.createUser("stranger", false)
	c := e.createCanvas(alice.Token, "shared")
	e.setLink(alice.Token, c, "edit")
	e.doJSON("GET", c.path(""), "", nil).expect(t, 200)
	e.doJSON("GET", c.path(""), stranger.Token, nil).expect(t, 200)
	guest := fmt.Sprintf("/api/v1/users/%d", store.GuestUserID)

	e.doJSON("POST", guest+"/block", alice.Token, nil).expect(t, 403) // admin only
	e.mustJSON("POST", guest+"/block", e.Admin, nil, 200)
	e.doJSON("GET", c.path(""), "", nil).expect(t, 401)
	e.doJSON("POST", c.path("/notes"), "", map[string]any{"text": "x"}).expect(t, 401)
	e.doJSON("GET", c.path(""), stranger.Token, nil).expect(t, 403)
	e.doJSON("GET", c.path(""), alice.Token, nil).expect(t, 200) // the owner keeps access

	e.mustJSON("POST", guest+"/unblock", e.Admin, nil, 200)
	e.doJSON("GET", c.path(""), "", nil).expect(t, 200)
	e.doJSON("POST", c.path("/notes"), "", map[string]any{"text": "x"}).expect(t, 200)
}

func TestAccountsSAMLDisabled(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.doJSON("POST", "/api/v1/users/login/saml", "", map[string]any{"inResponseTo": "x", "responseXml": "<x/>"}).
		expectMsg(t, 403, "SAML sign-in is not enabled")
}

// smtpSink is a minimal SMTP server on 127.0.0.1 that keeps each message.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMsg
	got  chan struct{}
}

type smtpMsg struct {
	from, to, data string
}

func newSMTPSink(t testing.TB) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln, got: make(chan struct{}, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpSink) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(l string) { fmt.Fprintf(conn, "%s\r\n", l) }
	say("220 sink ESMTP")
	var m smtpMsg
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-sink")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.Trim(strings.Fields(strings.TrimSpace(line)[10:])[0], "<>")
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = strings.Trim(strings.TrimSpace(line)[8:], "<>")
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			s.got <- struct{}{}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not here")
		}
	}
}

func TestAccountsResetMailedOverSMTP(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	logs := &acctLog{}
	e := newTestEnv(t, withLog(logs), withConfig(func(c *Config) {
		c.SMTPURL = "smtp://" + sink.ln.Addr().String() + "?from=noreply@canvas.example"
		c.PublicURL = "https://canvas.example"
	}))
	bob := e.createUserPW("bob", false, "BBBB")
	e.doJSON("POST", "/api/v1/users/password/create-reset-token", "", map[string]any{"email": bob.Email}).expect(t, 200)
	select {
	case <-sink.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no mail reached the SMTP listener")
	}
	sink.mu.Lock()
	m := sink.msgs[0]
	sink.mu.Unlock()
	if m.from != "noreply@canvas.example" || m.to != bob.Email || !strings.Contains(m.data, "Subject: Reset your password") ||
		!strings.Contains(m.data, "https://canvas.example/reset-password?token=") {
		t.Fatalf("mail: %+v", m)
	}
	tok := lastToken(t, m.data)
	if strings.Contains(logs.String(), tok) {
		t.Fatal("a mailed token was also logged")
	}
	e.doJSON("POST", "/api/v1/users/password/reset", "", map[string]any{"token": tok, "password": "CCCC"}).expect(t, 200)
	login(e, bob.Email, "CCCC").expect(t, 200)

	// A mail server that is gone is a 502, not a silent success.
	sink.ln.Close()
	e.doJSON("POST", "/api/v1/users/password/create-reset-token", "", map[string]any{"email": bob.Email}).expectMsg(t, 502, "could not be sent")
}

func TestAccountsSignInRules(t *testing.T) {
	t.Parallel()
	logs := &acctLog{}
	e := newTestEnv(t, withLog(logs))
	setServerConfig(t, e, func(c *store.ServerConfig) {
		c.Authentication.Password.SignUpEnabled = true
		c.Authentication.RequireAdminApproval = true
	})
	// "username" is another name for "email" (community Canvus clients).
	bob := e.createUserPW("bob", false, "BBBB")
	if r := e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"username": bob.Email, "password": "BBBB"}).expect(t, 200).obj(t); r.obj("user").str("email") != bob.Email {
		t.Fatalf("login by username: %v", r)
	}

	u := e.doJSON("POST", "/api/v1/users/register", "", map[string]any{"email": "carol@example.com", "password": "CCCC", "name": "Carol"}).expect(t, 200).obj(t)
	login(e, "carol@example.com", "CCCC").expectMsg(t, 403, "Email address is not confirmed")
	login(e, "carol@example.com", "wrong").expect(t, 401) // a wrong password says nothing more
	carol := fmt.Sprintf("/api/v1/users/%d", int(u.num("id")))
	e.doJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), bob.Token, map[string]any{"need_email_confirmation": true}).expectMsg(t, 403, "admin only")
	// An admin may mark the email confirmed (need_email_confirmation: true,
	// as the reference words it).
	e.mustJSON("PATCH", carol, e.Admin, map[string]any{"need_email_confirmation": true}, 200)
	login(e, "carol@example.com", "CCCC").expectMsg(t, 403, "not approved")
	e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/approve", int(u.num("id"))), e.Admin, nil, 200)
	login(e, "carol@example.com", "CCCC").expect(t, 200)

	// Password sign-in off: users are refused, admins are not (so that
	// they can turn it back on).
	setServerConfig(t, e, func(c *store.ServerConfig) { c.Authentication.Password.Enabled = false })
	login(e, bob.Email, "BBBB").expectMsg(t, 403, "Sign-in using a password is not enabled")
	adm := e.createUserPW("adm", true, "AAAA")
	login(e, adm.Email, "AAAA").expect(t, 200)
}

// Blocking the Guest ends the live streams that link permission let in.
func TestAccountsBlockedGuestEndsLinkStreams(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "streamed")
	e.setLink(alice.Token, c, "view")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+c.path("/widgets?subscribe"), nil)
	resp, err := e.Client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("anonymous subscribe: %v %v", err, resp)
	}
	defer resp.Body.Close()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+c.path("/ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil {
		t.Fatalf("first websocket message: %v", err)
	}

	e.mustJSON("POST", fmt.Sprintf("/api/v1/users/%d/block", store.GuestUserID), e.Admin, nil, 200)
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("NDJSON stream did not end cleanly: %v", err)
	}
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			if s := websocket.CloseStatus(err); s != StatusAccessRevoked {
				t.Fatalf("websocket: %v, want close %d", err, StatusAccessRevoked)
			}
			break
		}
	}
}

// A public reset endpoint must not flood a mailbox: one email per account
// per minute; the earlier link keeps working.
func TestAccountsResetMailsAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	logs := &acctLog{}
	clock := &testClock{}
	e := newTestEnv(t, withLog(logs), withClock(clock))
	bob := e.createUserPW("bob", false, "BBBB")
	create := func() {
		e.doJSON("POST", "/api/v1/users/password/create-reset-token", "", map[string]any{"email": bob.Email}).expect(t, 200)
	}
	links := func() int { return strings.Count(logs.String(), "reset-password?token=") }
	create()
	first := lastToken(t, logs.String())
	create()
	create()
	if n := links(); n != 1 {
		t.Fatalf("%d reset emails within a minute, want 1", n)
	}
	clock.Advance(61 * time.Second)
	create()
	if n := links(); n != 2 {
		t.Fatalf("%d reset emails after a minute, want 2", n)
	}
	// The newer link replaces the older one.
	e.do("GET", "/api/v1/users/password/validate-reset-token?token="+url.QueryEscape(first), "", nil, "").expect(t, 400)
	e.do("GET", "/api/v1/users/password/validate-reset-token?token="+url.QueryEscape(lastToken(t, logs.String())), "", nil, "").expect(t, 200)
}
