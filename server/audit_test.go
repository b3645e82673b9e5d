package server

// Integration tests of the audit log (audit.go, store.AuditLog).

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/canvasd/canvasd/store"
)

var linkNextRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// auditPage fetches one page (path with query) and its next link ("" at the end).
func auditPage(t *testing.T, e *testEnv, path string) ([]jsonObj, string) {
	t.Helper()
	r := e.doJSON("GET", path, e.Admin, nil).expect(t, 200)
	next := ""
	if l := r.Header.Get("Link"); l != "" {
		m := linkNextRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("Link header %q", l)
		}
		u, err := url.Parse(m[1])
		if err != nil || u.Scheme != "http" || u.Host == "" {
			t.Fatalf("next link %q is not absolute", m[1])
		}
		next = u.RequestURI()
	}
	return r.list(t), next
}

func findAudit(evs []jsonObj, action, targetID string) jsonObj {
	for _, ev := range evs {
		if ev.str("action") == action && (targetID == "" || ev.str("target_id") == targetID) {
			return ev
		}
	}
	return nil
}

func TestAuditLogRecordsAndFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUserPW("alice", false, "AAAA")
	bob := e.createUser("bob", false)
	login(e, alice.Email, "AAAA").expect(t, 200)
	c := e.createCanvas(alice.Token, "audited")
	e.share(alice.Token, c, bob.ID, "edit")
	e.setLink(alice.Token, c, "edit")
	n := e.createNote(bob.Token, c, map[string]any{"text": "by bob"})
	e.mustJSON("PATCH", c.path("/notes/"+n.id()), bob.Token, map[string]any{"text": "again"}, 200)
	guestNote := e.mustJSON("POST", c.path("/notes"), "", map[string]any{"text": "by guest"}, 200)
	e.mustJSON("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), e.Admin, map[string]any{"name": "Robert"}, 200)
	g := e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": "audited"}, 200)
	e.mustJSON("DELETE", c.path("/notes/"+n.id()), alice.Token, nil, 200)

	e.doJSON("GET", "/api/v1/audit-log", "", nil).expect(t, 401)
	e.doJSON("GET", "/api/v1/audit-log", alice.Token, nil).expectMsg(t, 403, "admin")
	all, next := auditPage(t, e, "/api/v1/audit-log?per_page=1000")
	if next != "" {
		t.Fatalf("one page expected, got a next link %s", next)
	}
	for i := 1; i < len(all); i++ {
		if all[i].str("created_at") > all[i-1].str("created_at") {
			t.Fatalf("not newest first at %d: %v", i, all)
		}
	}
	want := []struct {
		action, target string
		author         uint64
	}{
		{"user.signed_in", fmt.Sprint(alice.ID), alice.ID},
		{"token.created", "", store.FirstUserID}, // the bootstrap admin made the test users' tokens
		{"canvas.created", c.ID, alice.ID},
		{"canvas.permissions_changed", c.ID, alice.ID},
		{"widget.created", n.id(), bob.ID},
		{"widget.updated", n.id(), bob.ID},
		{"widget.created", guestNote.id(), store.GuestUserID},
		{"widget.deleted", n.id(), alice.ID},
		{"user.updated", fmt.Sprint(bob.ID), store.FirstUserID},
		{"group.created", fmt.Sprint(int(g.num("id"))), store.FirstUserID},
	}
	for _, w := range want {
		ev := findAudit(all, w.action, w.target)
		if ev == nil {
			t.Fatalf("no %s of %s in the audit log: %v", w.action, w.target, all)
		}
		if uint64(ev.num("author_id")) != w.author || ev.str("created_at") == "" || ev.str("id") == "" {
			t.Fatalf("%s: %v, want author %d", w.action, ev, w.author)
		}
	}

	// Filters.
	byBob, _ := auditPage(t, e, fmt.Sprintf("/api/v1/audit-log?author_id=%d", bob.ID))
	if len(byBob) != 2 {
		t.Fatalf("author_id filter: %v", byBob)
	}
	onNote, _ := auditPage(t, e, "/api/v1/audit-log?target_type=widget&target_id="+n.id())
	if len(onNote) != 3 || onNote[0].str("action") != "widget.deleted" {
		t.Fatalf("target filter: %v", onNote)
	}
	users, _ := auditPage(t, e, "/api/v1/audit-log?target_type=user")
	for _, ev := range users {
		if ev.str("target_type") != "user" {
			t.Fatalf("target_type filter let through %v", ev)
		}
	}
	mid := all[len(all)/2].str("created_at")
	after, _ := auditPage(t, e, "/api/v1/audit-log?created_after="+url.QueryEscape(mid))
	before, _ := auditPage(t, e, "/api/v1/audit-log?created_before="+url.QueryEscape(mid))
	for _, ev := range after {
		if ev.str("created_at") <= mid {
			t.Fatalf("created_after let through %v", ev)
		}
	}
	for _, ev := range before {
		if ev.str("created_at") >= mid {
			t.Fatalf("created_before let through %v", ev)
		}
	}
	if len(after) == 0 || len(before) == 0 {
		t.Fatalf("time filters: %d after, %d before", len(after), len(before))
	}
	for _, bad := range []string{"created_after=yesterday", "created_before=1", "author_id=bob", "per_page=0", "per_page=1001", "per_page=x", "cursor=-1"} {
		e.doJSON("GET", "/api/v1/audit-log?"+bad, e.Admin, nil).expect(t, 400)
	}
}

func TestAuditLogPagingAndCSV(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	alice := e.createUser("alice", false)
	c := e.createCanvas(alice.Token, "paged")
	for i := range 7 {
		e.createNote(alice.Token, c, map[string]any{"text": fmt.Sprint(i)})
	}
	all, _ := auditPage(t, e, "/api/v1/audit-log?per_page=1000")

	// Pages of 3, following Link; an event added meanwhile shifts nothing.
	var got []jsonObj
	page, next := auditPage(t, e, "/api/v1/audit-log?per_page=3")
	got = append(got, page...)
	e.createNote(alice.Token, c, map[string]any{"text": "late"})
	pages := 1
	for next != "" {
		if !strings.Contains(next, "cursor=") || !strings.Contains(next, "per_page=3") {
			t.Fatalf("next link %s", next)
		}
		page, next = auditPage(t, e, next)
		if len(page) == 0 || len(page) > 3 {
			t.Fatalf("page of %d", len(page))
		}
		got = append(got, page...)
		pages++
	}
	if len(got) != len(all) || pages != (len(all)+2)/3 {
		t.Fatalf("paged %d events in %d pages, want %d", len(got), pages, len(all))
	}
	for i := range got {
		if got[i].id() != all[i].id() {
			t.Fatalf("page order differs at %d: %v vs %v", i, got[i], all[i])
		}
	}

	// CSV: the same events (the late note too), same filters.
	e.do("GET", "/api/v1/audit-log/export-csv", alice.Token, nil, "").expect(t, 403)
	e.do("GET", "/api/v1/audit-log/export-csv?author_id=x", e.Admin, nil, "").expect(t, 400)
	r := e.do("GET", "/api/v1/audit-log/export-csv", e.Admin, nil, "").expect(t, 200)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), "audit-log.csv") {
		t.Fatalf("headers: %v", r.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,created_at,author_id,action,target_type,target_id,details" || len(rows) != len(all)+2 {
		t.Fatalf("csv: %d rows (want %d), header %v", len(rows), len(all)+2, rows[0])
	}
	if rows[1][3] != "widget.created" || rows[1][2] != fmt.Sprint(alice.ID) {
		t.Fatalf("newest row: %v", rows[1])
	}
	r = e.do("GET", "/api/v1/audit-log/export-csv?target_type=canvas&target_id="+c.ID, e.Admin, nil, "").expect(t, 200)
	rows, _ = csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if len(rows) != 2 || rows[1][3] != "canvas.created" {
		t.Fatalf("filtered csv: %v", rows)
	}
}
