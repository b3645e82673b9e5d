package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/web"
	"github.com/rs/zerolog"
)

// The client's test handle (window.__canvasd) is an option of the server,
// not part of every page (issue 19: test seams are options, not hooks in
// production code). app.js creates it only on a page marked data-probe.
func TestWebProbeIsAnOption(t *testing.T) {
	t.Parallel()
	page := func(opts ...Option) string {
		st, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srv := New(Config{}, st, NewHub(st, 0), zerolog.Nop(), append([]Option{WithWeb(web.FS())}, opts...)...)
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		resp, err := ts.Client().Get(ts.URL + "/c/some-canvas")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page(); strings.Contains(p, "data-probe") {
		t.Fatalf("a default server's page is marked for tests: %.200s", p)
	}
	if p := page(WithWebProbe()); !strings.Contains(p, `<html data-probe="1" lang="en">`) {
		t.Fatalf("WithWebProbe page not marked: %.200s", p)
	}
	app, err := web.FS().Open("app.js")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := io.ReadAll(app)
	if !strings.Contains(string(src), "if (document.documentElement.dataset.probe === '1') window.__canvasd") {
		t.Fatal("app.js creates window.__canvasd without the data-probe mark")
	}
}
