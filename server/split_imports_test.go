package server

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackagesImportOneWay keeps the cut of server/ one-directional: core
// imports no dialect and no server package, a dialect imports core and no
// other dialect, and nothing below server imports server. It reads the
// import lines of every Go file (tests included) of each package directory.
func TestPackagesImportOneWay(t *testing.T) {
	const mod = "github.com/canvasd/canvasd/server"
	dialects := []string{"canvus", "deal", "clipdrop", "cropjobs"}
	imports := func(dir string) map[string]bool {
		t.Helper()
		p, err := build.ImportDir(dir, build.ImportComment)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		out := map[string]bool{}
		for _, list := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
			for _, i := range list {
				if i == mod || strings.HasPrefix(i, mod+"/") {
					out[strings.TrimPrefix(strings.TrimPrefix(i, mod), "/")] = true
				}
			}
		}
		return out
	}
	for i := range imports(filepath.Join("internal", "core")) {
		t.Errorf("server/internal/core imports server/%s: core must import no dialect and not server", i)
	}
	for _, d := range dialects {
		got := imports(d)
		if !got["internal/core"] {
			t.Errorf("server/%s does not import server/internal/core: is it still a dialect on the core?", d)
		}
		for i := range got {
			if i != "internal/core" {
				t.Errorf("server/%s imports server/%s: a dialect imports only core", d, i)
			}
		}
	}
	top := imports(".")
	for _, d := range append(dialects, "internal/core") {
		if !top[d] {
			t.Errorf("server does not import server/%s: routes.go registers every dialect", d)
		}
	}
}
