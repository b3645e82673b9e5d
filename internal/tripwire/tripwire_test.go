// Package tripwire holds one test that reads every other test of the
// repository (issue 18): it fails on a skip outside an allow-list and on a
// Test function with no failure path. It is a tripwire, not a linter: the
// rules are simple on purpose, so a test that is only meant to look busy can
// still slip through, but a forgotten t.Skip or an empty test cannot.
package tripwire

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// allowedSkips lists the only functions that may call Skip, Skipf or
// SkipNow, as "path/from/repo/root_test.go:FuncName", each with its reason.
// An entry that matches no skip any more fails the test, so the list never
// outlives its reasons.
var allowedSkips = map[string]string{
	"imaging/chart/chart_test.go:needOCR":                              "tesseract missing outside CI; under CI the helper fails with the install command",
	"imaging/digitize/digitize_test.go:needOCR":                        "tesseract missing outside CI; under CI the helper fails with the install command",
	"imaging/ocr/ocr_test.go:needTesseract":                            "tesseract missing outside CI; under CI the helper fails with the install command",
	"web/media_test.go:mediaNeedPoppler":                               "poppler-utils missing outside CI; under CI the helper fails with the install command",
	"imaging/media/pdf_test.go:needPoppler":                            "poppler-utils missing outside CI; under CI the helper fails with the install command",
	"web/e2e_test.go:newEnv":                                           "chromium missing outside CI; under CI it fails with the install command",
	"imaging/fixtures_test.go:TestFixtures":                            "the fixture regenerator: it only runs with -update and writes testdata",
	"cmd/canvasd/crash_test.go:TestCrashSafetySIGKILL":                 "-short: builds and SIGKILLs the real binary 20 times; make test never passes -short",
	"server/jobs_restart_test.go:TestBannerJobsSurviveKillExactlyOnce": "-short: builds and restarts the real binary; make test never passes -short",
}

// benignMethods are the testing.T methods that do not make a test fail.
// A test whose parameter is only ever used through them has no assertion.
var benignMethods = map[string]bool{
	"Parallel": true, "Helper": true, "Log": true, "Logf": true, "Run": true, "Name": true,
	"TempDir": true, "Cleanup": true, "Setenv": true, "Chdir": true, "Context": true,
	"Deadline": true, "Failed": true, "Skipped": true, "Output": true, "Attr": true,
	"ArtifactDir": true, "Skip": true, "Skipf": true, "SkipNow": true,
}

var skipMethods = map[string]bool{"Skip": true, "Skipf": true, "SkipNow": true}

// finding is one offence: where, and what.
type finding struct {
	pos  string // file:line
	key  string // file:FuncName, the allow-list key for skips
	kind string // "skip" or "no-assertion"
	msg  string
}

// check parses one test file and returns its skips and its Test functions
// without a failure path. name is the file's path from the repository root.
func check(fset *token.FileSet, name string, src any) ([]finding, error) {
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []finding
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		key := name + ":" + fn.Name.Name
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && skipMethods[sel.Sel.Name] {
				if _, isIdent := sel.X.(*ast.Ident); isIdent {
					out = append(out, finding{pos: fset.Position(call.Pos()).String(), key: key, kind: "skip",
						msg: fmt.Sprintf("%s calls %s.%s", fn.Name.Name, sel.X.(*ast.Ident).Name, sel.Sel.Name)})
				}
			}
			return true
		})
		if fn.Recv == nil && isTestName(fn.Name.Name) && len(fn.Type.Params.List) == 1 && isTestingT(fn.Type.Params.List[0].Type) {
			if !hasFailurePath(fn) {
				out = append(out, finding{pos: fset.Position(fn.Pos()).String(), key: key, kind: "no-assertion",
					msg: fn.Name.Name + " has no failure path (no t.Error/Fatal/Fail, and t is never passed to a helper)"})
			}
		}
	}
	return out, nil
}

// isTestName reports whether go test runs name as a test: Test, or Test
// followed by a character that is not a lower-case letter.
func isTestName(name string) bool {
	if !strings.HasPrefix(name, "Test") || name == "TestMain" {
		return false
	}
	rest := name[len("Test"):]
	return rest == "" || !('a' <= rest[0] && rest[0] <= 'z')
}

// isTestingT matches the type expression *testing.T.
func isTestingT(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "testing" && sel.Sel.Name == "T"
}

// hasFailurePath reports whether the test's *testing.T (or that of a
// subtest literal inside it) is used other than through a benign method:
// t.Error*, t.Fatal*, t.Fail*, or t handed to any function (require,
// assert, a helper, a struct that keeps it).
func hasFailurePath(fn *ast.FuncDecl) bool {
	names := map[string]bool{}
	for _, id := range fn.Type.Params.List[0].Names {
		names[id.Name] = true
	}
	// benign collects the idents the last walk ignores: subtest parameter
	// declarations and receivers of benign method calls.
	benign := map[*ast.Ident]bool{}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if lit, ok := n.(*ast.FuncLit); ok {
			for _, p := range lit.Type.Params.List {
				if isTestingT(p.Type) {
					for _, id := range p.Names {
						names[id.Name] = true
						benign[id] = true
					}
				}
			}
		}
		return true
	})
	delete(names, "_")
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] && benignMethods[sel.Sel.Name] {
				benign[id] = true
			}
		}
		return true
	})
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if found {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && names[id.Name] && !benign[id] {
			found = true
		}
		return true
	})
	return found
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// TestTripwire reads every *_test.go file of the repository.
func TestTripwire(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	var all []finding
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found, err := check(fset, filepath.ToSlash(rel), src)
		if err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		files++
		all = append(all, found...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d test files under %s: the walk is broken", files, root)
	}
	used := map[string]bool{}
	var bad []string
	for _, f := range all {
		if f.kind == "skip" {
			if _, ok := allowedSkips[f.key]; ok {
				used[f.key] = true
				continue
			}
			bad = append(bad, fmt.Sprintf("%s: %s; skips hide failures: fail instead, or add %q with its reason to allowedSkips", f.pos, f.msg, f.key))
			continue
		}
		bad = append(bad, fmt.Sprintf("%s: %s", f.pos, f.msg))
	}
	for key := range allowedSkips {
		if !used[key] {
			bad = append(bad, fmt.Sprintf("allowedSkips entry %q matches no skip any more: remove it", key))
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	t.Logf("read %d test files", files)
}

// TestTripwireCatches proves the rules on small in-memory files: a new skip
// and a test without a failure path are both reported, and ordinary tests
// are not.
func TestTripwireCatches(t *testing.T) {
	const src = `package p

import "testing"

func TestSkips(t *testing.T) {
	if testing.Short() {
		t.Skip("later")
	}
	t.Fatal("x")
}

func TestEmpty(t *testing.T) {}

func TestOnlyLogs(t *testing.T) {
	t.Parallel()
	t.Helper()
	t.Log("looks busy")
	t.Run("sub", func(t *testing.T) { t.Logf("still nothing") })
}

func TestErrors(t *testing.T) {
	if 1+1 != 2 {
		t.Errorf("math")
	}
}

func TestHelper(t *testing.T) { mustWork(t) }

func TestStruct(t *testing.T) { e := env{t: t}; _ = e }

func TestSubtestFails(t *testing.T) {
	t.Run("sub", func(st *testing.T) { st.Fatal("no") })
}

func TestUnnamed(*testing.T) {}

func BenchmarkSkips(b *testing.B) { b.SkipNow() }

func helper(tb testing.TB) { tb.Skipf("%d", 1) }

func Testable(t *testing.T) {}   // not a test: lower case after Test
func TestMain(m *testing.M)   {} // not a test
`
	got, err := check(token.NewFileSet(), "x/p_test.go", src)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range got {
		lines = append(lines, f.kind+" "+f.key)
	}
	sort.Strings(lines)
	want := []string{
		"no-assertion x/p_test.go:TestEmpty",
		"no-assertion x/p_test.go:TestOnlyLogs",
		"no-assertion x/p_test.go:TestUnnamed",
		"skip x/p_test.go:BenchmarkSkips",
		"skip x/p_test.go:TestSkips",
		"skip x/p_test.go:helper",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
