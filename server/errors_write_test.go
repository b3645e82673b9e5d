package server

// Issue 18, "Errors surface", inside write transactions: a store read that
// fails in the middle of a write (the anchor count, the top depth, the
// name-conflict scan, the sign-in account lookup, a widget lookup) answers
// 500 with its cause in the request log, never a 2xx computed from a
// partial read, nor a 401/404 that pretends the record is absent.
//
// Closing the store (TestStoreReadErrorsAnswer500) cannot reach these
// paths: the write transaction itself then fails to begin. The fault here
// is a record that no longer decodes: a real read error of the store
// (json.Unmarshal inside Tx.Widgets, Tx.Canvases, Tx.User, Tx.Widget),
// written into the bbolt file under the running server.

import (
	"encoding/binary"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// corruptRecord overwrites (or adds) one record of the store's bbolt file
// with bytes that are not JSON. path names the bucket, then nested buckets.
func corruptRecord(t *testing.T, e *testEnv, key []byte, path ...string) {
	t.Helper()
	err := e.Store.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, p := range path[1:] {
			b = b.Bucket([]byte(p))
		}
		return b.Put(key, []byte("{not json"))
	})
	if err != nil {
		t.Fatalf("corrupt %v/%q: %v", path, key, err)
	}
}

func expect500Logged(t *testing.T, r *testResp, logs *lockedBuffer, cause string) {
	t.Helper()
	if r.Status != http.StatusInternalServerError {
		t.Errorf("%s: a failed store read inside the write must answer 500, not %d", r, r.Status)
		return
	}
	r.expect(t, http.StatusInternalServerError)
	if !strings.Contains(logs.String(), cause) {
		t.Errorf("%s: the request log does not name the cause %q:\n%s", r, cause, logs.String())
	}
}

func TestStoreReadErrorsInWrites500(t *testing.T) {
	const decodeErr = "invalid character 'n'" // json's error for "{not json"
	var logs lockedBuffer
	e := newTestEnv(t, func(o *testEnvOpts) { o.log = zerolog.New(&logs) })
	alice := e.createUser("alice", false)
	carol := e.createUserPW("carol", false, "CCCC")

	t.Run("widgets", func(t *testing.T) {
		cv := e.createCanvas(alice.Token, "corrupt-widgets")
		a := e.createNote(alice.Token, cv, nil)
		e.createNote(alice.Token, cv, nil)
		corruptRecord(t, e, []byte(a.id()), "widgets", cv.ID)
		// core.TopDepth (a new note goes on top of its siblings).
		expect500Logged(t, e.doJSON("POST", cv.path("/notes"), alice.Token, map[string]any{"text": "x"}), &logs, "top depth: "+decodeErr)
		// The anchor count of CreateWidget.
		expect500Logged(t, e.doJSON("POST", cv.path("/anchors"), alice.Token, map[string]any{"anchor_name": "a"}), &logs, "count anchors: "+decodeErr)
		// A widget read that fails is not "not found" (GET, PATCH, DELETE).
		expect500Logged(t, e.doJSON("GET", cv.path("/notes/"+a.id()), alice.Token, nil), &logs, decodeErr)
		expect500Logged(t, e.doJSON("PATCH", cv.path("/notes/"+a.id()), alice.Token, map[string]any{"text": "y"}), &logs, decodeErr)
		expect500Logged(t, e.doJSON("DELETE", cv.path("/notes/"+a.id()), alice.Token, nil), &logs, decodeErr)
		// A connector's endpoint that cannot be read is not a bad request.
		expect500Logged(t, e.doJSON("POST", cv.path("/connectors"), alice.Token, map[string]any{
			"src": map[string]any{"id": a.id()}, "dst": map[string]any{"id": cv.Root}}), &logs, decodeErr)
		// Nothing was half-stored: the canvas still holds the two notes and
		// the root, nothing more (the list itself now fails: 500).
		var n int
		e.Store.DB().View(func(tx *bolt.Tx) error {
			n = tx.Bucket([]byte("widgets")).Bucket([]byte(cv.ID)).Stats().KeyN
			return nil
		})
		if n != 3 {
			t.Errorf("the canvas holds %d widget records after the failed writes, want 3", n)
		}
	})

	t.Run("canvases", func(t *testing.T) {
		cv := e.createCanvas(alice.Token, "corrupt-canvases")
		corruptRecord(t, e, []byte("zzzz-corrupt-canvas"), "canvases")
		folder := e.mustJSON("POST", "/api/v1/canvas-folders", alice.Token, map[string]any{"name": e.unique("f")}, http.StatusOK).id()
		// conflictIn, on move and on copy.
		expect500Logged(t, e.doJSON("POST", cv.path("/move"), alice.Token, map[string]any{"folder_id": folder}), &logs, "look for a name conflict: "+decodeErr)
		expect500Logged(t, e.doJSON("POST", cv.path("/copy"), alice.Token, map[string]any{"folder_id": folder}), &logs, "look for a name conflict: "+decodeErr)
		// newCanvasName (a canvas created without a name is "New canvas (n)").
		expect500Logged(t, e.doJSON("POST", "/api/v1/canvases", alice.Token, map[string]any{}), &logs, "name a new canvas: "+decodeErr)
		if err := e.Store.DB().Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("canvases")).Delete([]byte("zzzz-corrupt-canvas")) }); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("login", func(t *testing.T) {
		// The right password logs in; then carol's record stops decoding.
		e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": carol.Email, "password": "CCCC"}).expect(t, http.StatusOK)
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, carol.ID)
		corruptRecord(t, e, key, "users")
		expect500Logged(t, e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": carol.Email, "password": "CCCC"}), &logs, "sign-in: read the account: "+decodeErr)
		// An unknown email is still the plain 401.
		e.doJSON("POST", "/api/v1/users/login", "", map[string]any{"email": "nobody@example.com", "password": "CCCC"}).expectMsg(t, http.StatusUnauthorized, "Invalid email or password")
	})
}
