package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
)

// clearEnv removes every CANVASD_* variable for the duration of the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CANVASD_") {
			t.Setenv(k, "") // restores the old value at cleanup
			os.Unsetenv(k)
		}
	}
}

func TestServeFlagsDefaults(t *testing.T) {
	clearEnv(t)
	c, err := serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != ":8080" || c.data != "./data" || c.logFormat != "console" || c.bootstrapToken != "" ||
		c.retention != 10000 || c.maxBody != 30<<20 || c.maxPixels != 50_000_000 || c.keepAlive != 15*time.Second {
		t.Fatalf("defaults %+v", c)
	}
}

func TestServeFlagsEnvAndPrecedence(t *testing.T) {
	clearEnv(t)
	t.Setenv("CANVASD_ADDR", "127.0.0.1:9999")
	t.Setenv("CANVASD_DATA", "/srv/canvasd")
	t.Setenv("CANVASD_LOG_FORMAT", "json")
	t.Setenv("CANVASD_BOOTSTRAP_TOKEN", "from-env")
	t.Setenv("CANVASD_MAX_BODY_BYTES", "1234")
	t.Setenv("CANVASD_KEEPALIVE", "3s")
	t.Setenv("CANVASD_EVENT_RETENTION", "77")
	c, err := serveFlags([]string{"--addr", ":7000", "--max-pixels", "99"})
	if err != nil {
		t.Fatal(err)
	}
	// Flags win; everything else comes from the environment.
	if c.addr != ":7000" || c.maxPixels != 99 {
		t.Fatalf("flags lost to env: %+v", c)
	}
	if c.data != "/srv/canvasd" || c.logFormat != "json" || c.bootstrapToken != "from-env" || c.maxBody != 1234 ||
		c.keepAlive != 3*time.Second || c.retention != 77 {
		t.Fatalf("env not applied: %+v", c)
	}

	t.Setenv("CANVASD_EVENT_RETENTION", "lots")
	if _, err := serveFlags(nil); err == nil || !strings.Contains(err.Error(), "CANVASD_EVENT_RETENTION") {
		t.Fatalf("bad env value: %v", err)
	}
	t.Setenv("CANVASD_EVENT_RETENTION", "5")
	if _, err := serveFlags([]string{"--log-format", "xml"}); err == nil || !strings.Contains(err.Error(), "log-format") {
		t.Fatalf("bad log format: %v", err)
	}
	if _, err := serveFlags([]string{"--no-such-flag"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestRunUnknownCommand(t *testing.T) {
	clearEnv(t)
	if err := run([]string{"frobnicate"}); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run([]string{"user", "remove"}); err == nil {
		t.Fatal("user remove accepted")
	}
	if err := run([]string{"token"}); err == nil {
		t.Fatal("bare token accepted")
	}
}

func TestUserAddAndTokenCreate(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	var out bytes.Buffer
	err := userAdd([]string{"--data", dir, "--email", "ops@example.com", "--name", "Ops", "--password", "s3cret", "--admin"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created user 1000 (ops@example.com)") {
		t.Fatalf("output %q", out.String())
	}
	// Missing or weak fields are refused before anything is hashed (bcrypt
	// is slow under -race; duplicate emails are tested through the API).
	if err := userAdd([]string{"--data", dir, "--email", "a@example.com", "--password", "s3cret"}, io.Discard); err == nil {
		t.Fatal("missing name accepted")
	}
	if err := userAdd([]string{"--data", dir, "--email", "a@example.com", "--name", "x", "--password", "123"}, io.Discard); err == nil {
		t.Fatal("short password accepted")
	}

	// --data from the environment; the token prints alone on its line.
	t.Setenv("CANVASD_DATA", dir)
	out.Reset()
	if err := tokenCreate([]string{"--email", "ops@example.com", "--description", "deploy"}, &out); err != nil {
		t.Fatal(err)
	}
	plain := strings.TrimSpace(out.String())
	if plain == "" || strings.ContainsAny(plain, " \n") {
		t.Fatalf("token output %q", out.String())
	}
	if err := tokenCreate([]string{"--email", "nobody@example.com"}, io.Discard); err == nil {
		t.Fatal("token for an unknown user")
	}

	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx *store.Tx) error {
		u, err := tx.UserByEmail("ops@example.com")
		if err != nil || !u.Admin || u.Name != "Ops" || !u.CheckPassword("s3cret") {
			t.Fatalf("user %+v %v", u, err)
		}
		tk, err := tx.TokenByPlain(plain)
		if err != nil || tk.UserID != u.ID || tk.Description != "deploy" {
			t.Fatalf("token %+v %v", tk, err)
		}
		return nil
	})
}

func TestRestoreCmd(t *testing.T) {
	clearEnv(t)
	src := t.TempDir()
	st, err := store.Open(src, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := st.PutBlobFile([]byte("restored blob"))
	if err == nil {
		err = st.Write(func(tx *store.Tx) error {
			if err := tx.CreateUser(&store.User{Email: "r@example.com", Name: "R"}); err != nil {
				return err
			}
			return tx.AddBlobRef(blob)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "backup.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st.Close()

	dst := filepath.Join(t.TempDir(), "restored")
	var out bytes.Buffer
	if err := restoreCmd([]string{"--from", archive, "--data", dst}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "restored") {
		t.Fatalf("output %q", out.String())
	}
	if err := restoreCmd([]string{"--from", archive, "--data", dst}, io.Discard); err == nil {
		t.Fatal("restore over a store accepted")
	}
	if err := restoreCmd([]string{"--data", dst}, io.Discard); err == nil {
		t.Fatal("restore without --from accepted")
	}
	r, err := store.Open(dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.View(func(tx *store.Tx) error {
		if u, err := tx.UserByEmail("r@example.com"); err != nil || u.Name != "R" {
			t.Fatalf("restored user: %v", err)
		}
		return nil
	})
	if b, err := r.ReadBlob(blob); err != nil || string(b) != "restored blob" {
		t.Fatalf("restored blob %q %v", b, err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var signInRE = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/#token=(\S+)`)

// serveInBackground runs serve and returns its output and a function that
// stops it with SIGTERM, as an operator would, and returns serve's error.
func serveInBackground(t *testing.T, args []string) (*syncBuffer, func() error) {
	t.Helper()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(args, out) }()
	stop := func() error {
		deadline := time.After(20 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			// Repeat the signal until serve has installed its handler and
			// returned.
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			select {
			case err := <-done:
				return err
			case <-tick.C:
			case <-deadline:
				t.Fatal("serve did not stop on SIGTERM")
			}
		}
	}
	return out, stop
}

func TestServeFirstStartPrintsSignInOnce(t *testing.T) {
	clearEnv(t)
	// Our own handler keeps SIGTERM from killing the test binary before
	// serve installs its handler.
	guard := make(chan os.Signal, 16)
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)

	dir := t.TempDir()
	t.Setenv("CANVASD_BOOTSTRAP_TOKEN", "fixed-bootstrap-token-123")
	out, stop := serveInBackground(t, []string{"--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json"})
	var base, token string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" {
		if m := signInRE.FindStringSubmatch(out.String()); m != nil {
			base, token = m[1], m[2]
		} else if time.Now().After(deadline) {
			stop()
			t.Fatalf("no sign-in link printed: %q", out.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if token != "fixed-bootstrap-token-123" {
		t.Fatalf("printed token %q, want the CANVASD_BOOTSTRAP_TOKEN", token)
	}
	if n := strings.Count(out.String(), token); n != 1 {
		t.Fatalf("token printed %d times", n)
	}
	get := func(path, tok string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if tok != "" {
			req.Header.Set("Private-Token", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(20 * time.Second); get("/readyz", "") != 200; {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("server never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := get("/api/v1/users", token); code != 200 {
		t.Fatalf("bootstrap token: GET /users -> %d", code)
	}
	if code := get("/api/v1/users", "wrong"); code != 401 {
		t.Fatalf("wrong token: GET /users -> %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}

	// Second start over the same data: nothing secret is printed, the old
	// token still works, and the env token does not mint a new admin.
	t.Setenv("CANVASD_BOOTSTRAP_TOKEN", "another-token")
	// It prints no address, so listen on a port picked here.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base = "http://" + addr
	out2, stop2 := serveInBackground(t, []string{"--addr", addr, "--data", dir, "--log-format", "json"})
	for deadline := time.Now().Add(20 * time.Second); get("/readyz", "") != 200; {
		if time.Now().After(deadline) {
			stop2()
			t.Fatal("second server never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := get("/api/v1/users", "fixed-bootstrap-token-123"); code != 200 {
		t.Fatalf("bootstrap token after restart: GET /users -> %d", code)
	}
	if err := stop2(); err != nil {
		t.Fatalf("second serve returned %v", err)
	}
	if s := out2.String(); s != "" {
		t.Fatalf("second start printed %q", s)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx *store.Tx) error {
		if _, err := tx.TokenByPlain("fixed-bootstrap-token-123"); err != nil {
			t.Fatalf("bootstrap token lost: %v", err)
		}
		if _, err := tx.TokenByPlain("another-token"); err == nil {
			t.Fatal("second start created a token from CANVASD_BOOTSTRAP_TOKEN")
		}
		users, _ := tx.Users()
		admins := 0
		for _, u := range users {
			if u.Admin {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%d admins after two starts", admins)
		}
		return nil
	})
}
