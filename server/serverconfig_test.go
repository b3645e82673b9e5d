package server

// Integration tests of /server-config and /license (serverconfig.go).

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
)

func keysOf(m jsonObj) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestServerConfigReadPatchPersist(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withConfig(func(c *Config) { c.PublicURL = "http://canvus.example.com" }))
	alice := e.createUser("alice", false)

	// Anyone reads the sign-in subset; the documented keys, no more.
	for _, token := range []string{"", alice.Token} {
		got := e.mustJSON("GET", "/api/v1/server-config", token, nil, 200)
		if keysOf(got) != "authentication,external_url,server_name" || keysOf(got.obj("authentication")) != "password,qr_code,saml" {
			t.Fatalf("non-admin view: %v", got)
		}
		if got.str("external_url") != "http://canvus.example.com" || !got.obj("authentication").obj("password").boolean("enabled") {
			t.Fatalf("non-admin view: %v", got)
		}
	}
	e.doJSON("GET", "/api/v1/server-config", "bad-token", nil).expect(t, 401)
	full := e.mustJSON("GET", "/api/v1/server-config", e.Admin, nil, 200)
	if keysOf(full) != "access,authentication,email,external_url,server_name" || full.str("access") != "rw" ||
		keysOf(full.obj("authentication")) != "domain_allow_list,password,qr_code,require_admin_approval,saml" ||
		keysOf(full.obj("email")) != "mail_reply_to_address,mail_reply_to_name,mail_sender_address,mail_sender_name,smtp_allow_self_signed_certificates,smtp_host,smtp_password,smtp_port,smtp_security,smtp_username" {
		t.Fatalf("admin view: %v", full)
	}

	patch := map[string]any{"authentication": map[string]any{"domain_allow_list": []any{"example.com"}, "password": map[string]any{"sign_up_enabled": false}}}
	e.doJSON("PATCH", "/api/v1/server-config", "", patch).expect(t, 401)
	e.doJSON("PATCH", "/api/v1/server-config", alice.Token, patch).expectMsg(t, 403, "admin")
	got := e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, patch, 200)
	if fmt.Sprint(got.obj("authentication")["domain_allow_list"]) != "[example.com]" || got.str("access") != "rw" ||
		!got.obj("authentication").obj("password").boolean("enabled") {
		t.Fatalf("patched: %v", got)
	}

	// Wrong types and impossible values: 400, nothing stored.
	before := e.mustJSON("GET", "/api/v1/server-config", e.Admin, nil, 200)
	for _, bad := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"authentication": map[string]any{"password": map[string]any{"sign_up_enabled": "yes"}}}, "Invalid value"},
		{map[string]any{"authentication": map[string]any{"saml": map[string]any{"enabled": true}}}, "SAML"},
		{map[string]any{"email": map[string]any{"smtp_port": 70000}}, "smtp_port"},
		{map[string]any{"email": map[string]any{"smtp_security": "rot13"}}, "smtp_security"},
		{map[string]any{"email": map[string]any{"mail_sender_address": "not mail"}}, "email"},
		{map[string]any{"external_url": "ftp://x"}, "external_url"},
		{map[string]any{"authentication": map[string]any{"domain_allow_list": []any{"a@b"}}}, "domain_allow_list"},
		{map[string]any{"server_name": 5, "external_url": "https://ok.example"}, "Invalid value"},
		{[]any{1}, "Invalid"},
	} {
		e.doJSON("PATCH", "/api/v1/server-config", e.Admin, bad.body).expectMsg(t, 400, bad.msg)
	}
	if after := e.mustJSON("GET", "/api/v1/server-config", e.Admin, nil, 200); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused PATCH changed the config:\n%v\n%v", before, after)
	}

	// The SMTP password is write-only, and an empty one keeps it.
	e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"server_name": "Lab", "access": "r",
		"email": map[string]any{"smtp_host": "mail.example.com", "smtp_password": "s3cret"}}, 200)
	got = e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"email": map[string]any{"smtp_password": ""}}, 200)
	if got.obj("email").str("smtp_password") != "" || got.obj("email").str("smtp_host") != "mail.example.com" || got.str("access") != "rw" {
		t.Fatalf("email: %v", got)
	}
	var stored store.ServerConfig
	e.Store.View(func(tx *store.Tx) (err error) { stored, err = tx.ServerConfig(); return })
	if stored.Email.SMTPPassword != "s3cret" {
		t.Fatalf("stored smtp password %q", stored.Email.SMTPPassword)
	}

	// Persisted across a restart.
	e.Restart()
	got = e.mustJSON("GET", "/api/v1/server-config", "", nil, 200)
	if got.str("server_name") != "Lab" {
		t.Fatalf("after restart: %v", got)
	}

	// The setting drives registration.
	reg := map[string]any{"email": "new@example.com", "password": "NNNN", "name": "New"}
	e.doJSON("POST", "/api/v1/users/register", "", reg).expectMsg(t, 403, "not enabled")
	e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"authentication": map[string]any{"password": map[string]any{"sign_up_enabled": true}}}, 200)
	e.doJSON("POST", "/api/v1/users/register", "", reg).expect(t, 200)
	e.doJSON("POST", "/api/v1/users/register", "", map[string]any{"email": "x@other.example", "password": "NNNN", "name": "X"}).expectMsg(t, 403, "domain")
}

func TestServerConfigSendTestEmail(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	logs := &acctLog{}
	e := newTestEnv(t, withLog(logs))
	alice := e.createUser("alice", false)
	e.doJSON("POST", "/api/v1/server-config/send-test-email", alice.Token, nil).expect(t, 403)
	e.doJSON("POST", "/api/v1/server-config/send-test-email", "", nil).expect(t, 401)
	// No mail server: the email is logged.
	e.mustJSON("POST", "/api/v1/server-config/send-test-email", e.Admin, nil, 200)
	if !strings.Contains(logs.String(), "email not sent") {
		t.Fatalf("no log line:\n%s", logs)
	}
	// The server config's SMTP settings are used when there is no --smtp-url.
	host, port, _ := net.SplitHostPort(sink.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"email": map[string]any{
		"smtp_host": host, "smtp_port": p, "smtp_security": "none", "mail_sender_address": "noreply@example.com"}}, 200)
	e.mustJSON("POST", "/api/v1/server-config/send-test-email", e.Admin, nil, 200)
	select {
	case <-sink.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no mail")
	}
	sink.mu.Lock()
	m := sink.msgs[0]
	sink.mu.Unlock()
	if m.to != BootstrapEmail || m.from != "noreply@example.com" || !strings.Contains(m.data, "Subject: canvasd test email") {
		t.Fatalf("mail: %+v", m)
	}
	// Required STARTTLS that the server does not offer: 502, said so.
	e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"email": map[string]any{"smtp_security": "starttls"}}, 200)
	e.doJSON("POST", "/api/v1/server-config/send-test-email", e.Admin, nil).expectMsg(t, 502, "STARTTLS")
}

func TestLicenseOpenSource(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	e.doJSON("GET", "/api/v1/license", "", nil).expect(t, 401)
	e.doJSON("GET", "/api/v1/license", alice.Token, nil).expectMsg(t, 403, "admin")
	l := e.mustJSON("GET", "/api/v1/license", e.Admin, nil, 200)
	if keysOf(l) != "edition,has_expired,is_valid,max_clients,type,valid_until" || l.boolean("has_expired") || !l.boolean("is_valid") || l.num("max_clients") != -1 {
		t.Fatalf("license: %v", l)
	}
}
