package canvus

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseClientMsg: websocket client messages. An accepted message is a
// PRESENCE or PING within the limits, and survives a JSON round trip.
func FuzzParseClientMsg(f *testing.F) {
	for _, s := range []string{
		`{"type":"PING"}`, `{"type":"PRESENCE","cursor":{"x":1,"y":2},"selection":["a","b"]}`,
		`{"type":"PRESENCE"}`, `{"type":""}`, `{}`, `null`, `[]`, `{"type":"HELLO"}`, `{"type":"PRESENCE","selection":"x"}`,
		`{"type":"PRESENCE","cursor":{"x":"1"}}`, `{"type":"PRESENCE","selection":[` + strings.Repeat(`"a",`, 1000) + `"a"]}`,
		`{"type":"PRESENCE","selection":["` + strings.Repeat("x", 65) + `"]}`, `{"type":"PING"} trailing`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseClientMsg(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if m.Type != "PRESENCE" && m.Type != "PING" {
			t.Fatalf("accepted type %q", m.Type)
		}
		if len(m.Selection) > 1000 {
			t.Fatalf("accepted %d selected ids", len(m.Selection))
		}
		for _, id := range m.Selection {
			if len(id) > 64 {
				t.Fatalf("accepted id of %d bytes", len(id))
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted message does not marshal: %v", err)
		}
		m2, err := parseClientMsg(b)
		if err != nil || m2.Type != m.Type || len(m2.Selection) != len(m.Selection) {
			t.Fatalf("round trip of %s: %+v, %v", b, m2, err)
		}
	})
}
