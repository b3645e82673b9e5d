package server

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// ?subscribe on /groups, /groups/:id/members and /server-config delivers
// updates, like every other GET (issue 12): the first line is the
// GET's body, later lines what changed.
func TestSubscribeGroupsServerConfig(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withConfig(func(c *Config) { c.KeepAlive = 50 * time.Millisecond }))
	bob := e.createUser("bob", false)

	groups, _ := fdSubscribe(t, e, "/api/v1/groups", bob.Token)
	name := e.unique("designers")
	gid := strconv.Itoa(int(e.mustJSON("POST", "/api/v1/groups", e.Admin, map[string]any{"name": name}, 200).num("id")))
	if l := groups.next(t, name); !bytes.Contains(l, []byte(`"name":"`+name+`"`)) {
		t.Fatalf("new group line %s", l)
	}
	members, _ := fdSubscribe(t, e, "/api/v1/groups/"+gid+"/members", bob.Token)
	e.mustJSON("POST", "/api/v1/groups/"+gid+"/members", e.Admin, map[string]any{"id": bob.ID}, 200)
	members.next(t, bob.Email)
	e.mustJSON("DELETE", "/api/v1/groups/"+gid, e.Admin, nil, 200)
	groups.next(t, `{"id":`+gid+`,"state":"deleted"}`)

	cfg, first := fdSubscribe(t, e, "/api/v1/server-config", e.Admin)
	if !bytes.Contains(first, []byte(`"server_name"`)) {
		t.Fatalf("server-config first line %s", first)
	}
	renamed := e.unique("canvasd-test")
	e.mustJSON("PATCH", "/api/v1/server-config", e.Admin, map[string]any{"server_name": renamed}, 200)
	cfg.next(t, `"server_name":"`+renamed+`"`)
}
