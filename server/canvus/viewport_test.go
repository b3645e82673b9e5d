package canvus

import (
	"strings"
	"testing"
)

// TestParseClientMsgViewport: a PRESENCE viewport is accepted only with
// finite numbers within ±1e9 and a positive width and height.
func TestParseClientMsgViewport(t *testing.T) {
	for _, tc := range []struct {
		vp string
		ok bool
	}{
		{`{"x":0,"y":0,"w":1280,"h":800}`, true},
		{`{"x":-5000.5,"y":12,"w":0.001,"h":1e9}`, true},
		{`{"x":0,"y":0,"w":0,"h":800}`, false},
		{`{"x":0,"y":0,"w":100,"h":-1}`, false},
		{`{"x":0,"y":0}`, false}, // w, h missing: 0
		{`{"x":2e9,"y":0,"w":1,"h":1}`, false},
		{`{"x":0,"y":0,"w":1e999,"h":1}`, false}, // not a float64: invalid JSON
		{`{"x":"0","y":0,"w":1,"h":1}`, false},
		{`[0,0,1,1]`, false},
		{`null`, true}, // no viewport
	} {
		m, err := parseClientMsg([]byte(`{"type":"PRESENCE","viewport":` + tc.vp + `}`))
		if (err == nil) != tc.ok {
			t.Errorf("viewport %s: err %v, want ok=%v", tc.vp, err, tc.ok)
		}
		if err == nil && m.Viewport != nil && m.Viewport.check() != nil {
			t.Errorf("viewport %s accepted but fails its check", tc.vp)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("viewport %s: empty error", tc.vp)
		}
		if err != nil && !strings.Contains(tc.vp, `"0"`) && !strings.Contains(tc.vp, "[") && !strings.Contains(tc.vp, "e999") && !strings.Contains(err.Error(), "viewport") {
			t.Errorf("viewport %s: error %q does not name the viewport", tc.vp, err)
		}
	}
}
