package conformance_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentsFullyRead checks the reader against a plain count: every
// curl command, every ```http block and every "Example PATCH Body" of a
// page is one example, so a page the reader misreads (a fence it does not
// know, a command it drops) fails here instead of shrinking the suite.
func TestDocumentsFullyRead(t *testing.T) {
	exs, err := loadExamples(refDir, seedDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ex := range exs {
		got[ex.Doc]++
	}
	var files []string
	_ = filepath.WalkDir(refDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	seeds, _ := filepath.Glob(filepath.Join(seedDir, "*.txt"))
	files = append(files, seeds...)
	if len(files) < 25 {
		t.Fatalf("only %d documents under testdata", len(files))
	}
	curl := regexp.MustCompile(`\bcurl\s+(-|'?https?://)`)
	body := regexp.MustCompile(`(?i)example (PATCH|POST|PUT) body`)
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		want := len(curl.FindAllString(text, -1)) + strings.Count(text, "```http") + len(body.FindAllString(text, -1))
		doc := strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(f), ".md"), ".txt")
		if strings.HasPrefix(doc, seedDir) {
			doc = "seeds/" + strings.TrimPrefix(doc, seedDir+"/")
		} else {
			doc = strings.TrimPrefix(doc, refDir+"/")
		}
		if got[doc] != want {
			t.Errorf("%s: %d example requests read, the page has %d", f, got[doc], want)
		}
		total += want
	}
	if len(exs) != total {
		t.Errorf("%d examples read, the pages hold %d", len(exs), total)
	}
}

// TestCompareFindsDifferences: the comparison reports each kind of
// difference the suite is meant to catch.
func TestCompareFindsDifferences(t *testing.T) {
	want, _ := lenientJSON(`{"id": "x", "name": "a", "size": {"width": 1}, "created_at": "2021-10-28T12:27:39.426Z", "tags": ["t"]}`)
	for _, c := range []struct{ name, got string }{
		{"missing field", `{"id": "y", "size": {"width": 2}, "created_at": "2024-01-01T00:00:00Z", "tags": []}`},
		{"wrong type", `{"id": "y", "name": 3, "size": {"width": 2}, "created_at": "2024-01-01T00:00:00Z", "tags": []}`},
		{"nested type", `{"id": "y", "name": "b", "size": {"width": "2"}, "created_at": "2024-01-01T00:00:00Z", "tags": []}`},
		{"not a time", `{"id": "y", "name": "b", "size": {"width": 2}, "created_at": "yesterday", "tags": []}`},
	} {
		got, _ := decodeNumbers([]byte(c.got))
		var probs []string
		compare("", want, got, true, &probs)
		if probs, _ = splitExtras(probs); len(probs) != 1 {
			t.Errorf("%s: want 1 problem, got %q", c.name, probs)
		}
	}
	ok, _ := decodeNumbers([]byte(`{"id": "y", "name": "b", "size": {"width": 2.5}, "created_at": "", "tags": [], "extra": 1}`))
	var probs []string
	compare("", want, ok, true, &probs)
	if probs, extras := splitExtras(probs); len(probs) != 0 || len(extras) != 1 || extras[0] != "extra" {
		t.Errorf("a conforming answer: %q", probs)
	}
	list, _ := lenientJSON(`[{"id": "x"}]`)
	var lp []string
	compare("", list, []any{}, true, &lp)
	if len(lp) != 1 {
		t.Errorf("empty top-level list: want 1 problem, got %q", lp)
	}
}
