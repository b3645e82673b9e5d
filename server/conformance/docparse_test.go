package conformance_test

// The document reader: it turns the Canvus reference pages (markdown) and
// the seed pages (text copied from web pages) into example requests, each
// paired with the documented answer that follows it.
//
// What counts as an example request:
//   - a curl command (in a ```bash block of a reference page, or anywhere in
//     a seed page): -X/--request, -H/--header, -d/--data/--data-raw/
//     --data-binary, -F/--form (name=value, name=@file, name="quoted"),
//     --url, -o/--output and -L/--location;
//   - an ```http block: a request line, header lines ("Name: value", or
//     "Header: Name: value" as the mipmap page writes them), then a body;
//   - an "Example PATCH Body" (or POST/PUT) JSON block, sent to the route
//     named by its section's signature block ("PATCH /canvases/:id/...").
//
// The documented answer of a request is the first response block after it
// in its section (a reference ```json block whose label says "Response"; in
// a seed, the JSON after "Example response:", "Example generated" or
// "Example"); a request that has none before the next request shares the
// next one of its section. A request without any documented answer expects
// 200 (the Canvus main page: every successful request answers 200).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// formPart is one -F of a curl command.
type formPart struct {
	Name  string
	Value string // text value, or the file name when File
	File  bool
}

// example is one documented request and its documented answer.
type example struct {
	Doc     string // document name without extension, e.g. "Canvases_API" or "seeds/canvus-images"
	Heading string
	N       int // 1-based index within the heading when it holds several, else 0
	Line    int // line of the request in the document
	Source  string

	Method  string
	Target  string // path and query as documented (host stripped)
	Headers [][2]string
	Body    []byte // -d / http body
	Form    []formPart
	// CurlData is true when the body came from curl -d without a
	// Content-Type header: curl then sends application/x-www-form-urlencoded.
	CurlData bool

	Response    any  // documented JSON answer, nil when none or not JSON
	HasResponse bool // a response block exists (JSON or not)
	Seed        bool
}

// Name is the subtest name: Doc/Heading[/n].
func (e example) Name() string {
	n := e.Doc + "/" + e.Heading
	if e.N > 0 {
		n += fmt.Sprintf("/%d", e.N)
	}
	return n
}

// request is an example request before pairing.
type request struct {
	line    int
	heading string
	ex      example
}

// respBlock is a documented answer.
type respBlock struct {
	line    int
	heading string
	value   any
	isJSON  bool
}

// loadExamples reads every reference page under refDir (recursively, *.md)
// and every seed page in seedDir (*.md and *.txt).
func loadExamples(refDir, seedDir string) ([]example, error) {
	var out []example
	var files []string
	err := filepath.WalkDir(refDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(refDir, f)
		exs, err := parseMarkdown(strings.TrimSuffix(filepath.ToSlash(rel), ".md"), string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, exs...)
	}
	seeds, _ := filepath.Glob(filepath.Join(seedDir, "*"))
	sort.Strings(seeds)
	for _, f := range seeds {
		if !strings.HasSuffix(f, ".md") && !strings.HasSuffix(f, ".txt") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := "seeds/" + strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".md"), ".txt")
		exs, err := parseSeed(name, string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, exs...)
	}
	return out, nil
}

var (
	headingRe   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	signatureRe = regexp.MustCompile(`^(GET|POST|PATCH|PUT|DELETE)\s+(/\S*)$`)
	bodyLabelRe = regexp.MustCompile(`(?i)example\s+(GET|POST|PATCH|PUT|DELETE)\s+body`)
	curlStartRe = regexp.MustCompile(`\bcurl\s+(-|'?https?://)`)
)

// parseMarkdown reads a reference page.
func parseMarkdown(doc, text string) ([]example, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var reqs []request
	var resps []respBlock
	heading := "Intro"
	signature := map[string]string{} // heading -> "METHOD /path" of its signature block
	lastLabel := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if m := headingRe.FindStringSubmatch(l); m != nil && !strings.HasPrefix(l, "#!") {
			h := strings.Trim(m[2], "* ")
			if len(m[1]) <= 3 && !strings.HasPrefix(strings.ToLower(h), "example") {
				heading = h
			}
			lastLabel = h
			continue
		}
		if !strings.HasPrefix(l, "```") {
			if l != "" {
				lastLabel = l
			}
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
		if lang == "markdown" || lang == "md" {
			continue // a page wrapped whole in a markdown fence: read its inside
		}
		start := i + 1
		j := start
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "```") {
			j++
		}
		block := lines[start:j]
		i = j
		label := lastLabel
		lastLabel = ""
		content := strings.TrimSpace(strings.Join(block, "\n"))
		switch {
		case lang == "json" && strings.Contains(strings.ToLower(label), "response"):
			v, err := lenientJSON(content)
			if err != nil {
				return nil, fmt.Errorf("line %d: response block: %v", start, err)
			}
			resps = append(resps, respBlock{line: start, heading: heading, value: v, isJSON: true})
		case lang == "json" && bodyLabelRe.MatchString(label):
			sig := signature[heading]
			if sig == "" {
				return nil, fmt.Errorf("line %d: %q has no signature block in section %q", start, label, heading)
			}
			m := signatureRe.FindStringSubmatch(sig)
			ex := example{Method: m[1], Target: m[2], Body: []byte(content),
				Headers: [][2]string{{"Content-Type", "application/json"}, {"Private-Token", "<access token>"}}}
			reqs = append(reqs, request{line: start, heading: heading, ex: ex})
		case lang == "http":
			ex, err := parseHTTPBlock(block)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", start, err)
			}
			reqs = append(reqs, request{line: start, heading: heading, ex: ex})
		case lang == "bash" || lang == "sh" || lang == "":
			if signatureRe.MatchString(content) {
				signature[heading] = content
				continue
			}
			if !strings.HasPrefix(content, "curl") {
				continue
			}
			// One command per block. A line that starts with "/" continues the
			// URL of the line before (the connectors page breaks one in two).
			var sb strings.Builder
			for k, bl := range block {
				t := strings.TrimSpace(bl)
				if t == "" {
					continue
				}
				if k > 0 && !strings.HasPrefix(t, "/") {
					sb.WriteString("\n")
				}
				sb.WriteString(t)
			}
			ex, _, err := parseCurl(sb.String())
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", start, err)
			}
			reqs = append(reqs, request{line: start, heading: heading, ex: ex})
		}
	}
	return pair(doc, reqs, resps, false), nil
}

// parseHTTPBlock reads "METHOD /path", header lines, then a body (after a
// blank line, or from the first line that opens a JSON value).
func parseHTTPBlock(block []string) (example, error) {
	var ex example
	i := 0
	for i < len(block) && strings.TrimSpace(block[i]) == "" {
		i++
	}
	if i == len(block) {
		return ex, fmt.Errorf("empty http block")
	}
	f := strings.Fields(block[i])
	if len(f) < 2 {
		return ex, fmt.Errorf("bad request line %q", block[i])
	}
	ex.Method, ex.Target = f[0], f[1]
	i++
	for ; i < len(block); i++ {
		l := strings.TrimSpace(block[i])
		if l == "" || strings.HasPrefix(l, "{") || strings.HasPrefix(l, "[") {
			break
		}
		l = strings.TrimPrefix(l, "Header: ")
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return ex, fmt.Errorf("bad header line %q", l)
		}
		ex.Headers = append(ex.Headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	if body := strings.TrimSpace(strings.Join(block[i:], "\n")); body != "" {
		ex.Body = []byte(body)
	}
	return ex, nil
}

// parseSeed reads a seed page: text copied from a web page, where code
// blocks have lost their fences and sometimes their line breaks.
func parseSeed(doc, text string) ([]example, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	headingAt := seedHeadings(lines)
	var reqs []request
	var resps []respBlock
	for i := 0; i < len(lines); i++ {
		if loc := curlStartRe.FindStringIndex(lines[i]); loc != nil {
			rest := strings.Join(lines[i:], "\n")[loc[0]:]
			ex, used, err := parseCurl(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", i+1, err)
			}
			reqs = append(reqs, request{line: i + 1, heading: headingAt[i], ex: ex})
			i += strings.Count(rest[:used], "\n")
			continue
		}
		l := strings.TrimSpace(lines[i])
		low := strings.ToLower(l)
		if low == "example response:" || low == "example response" || low == "example generated" || low == "example" {
			// The answer is the JSON value that starts on the next non-empty
			// line; any other text there is a non-JSON answer.
			k := i + 1
			for k < len(lines) && strings.TrimSpace(lines[k]) == "" {
				k++
			}
			if k == len(lines) {
				continue
			}
			rb := respBlock{line: i + 1, heading: headingAt[i]}
			first := strings.TrimSpace(lines[k])
			if strings.HasPrefix(first, "{") || strings.HasPrefix(first, "[") {
				raw, err := balancedJSON(strings.Join(lines[k:], "\n"))
				if err != nil {
					return nil, fmt.Errorf("line %d: %v", k+1, err)
				}
				v, err := lenientJSON(raw)
				if err != nil {
					return nil, fmt.Errorf("line %d: %v", k+1, err)
				}
				rb.value, rb.isJSON = v, true
			}
			resps = append(resps, rb)
		}
	}
	exs := pair(doc, reqs, resps, true)
	return exs, nil
}

// seedHeadings gives each line of a seed page its section title. A section
// starts at an endpoint signature ("GET /path" on one line, or "POST" alone
// followed by a line starting with "/"); its title is the nearest line above
// that reads as a title: not blank, not a sentence (no final '.' or ':'),
// not a URL, more than one word and shorter than 80 characters. Before the
// first signature the title is the page's first line.
func seedHeadings(lines []string) []string {
	out := make([]string, len(lines))
	cur := ""
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			cur = t
			break
		}
	}
	isMethod := func(s string) bool {
		switch s {
		case "GET", "POST", "PATCH", "PUT", "DELETE":
			return true
		}
		return false
	}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		sig := signatureRe.MatchString(t)
		if !sig && isMethod(t) {
			for k := i + 1; k < len(lines); k++ {
				if n := strings.TrimSpace(lines[k]); n != "" {
					sig = strings.HasPrefix(n, "/")
					break
				}
			}
		}
		if sig {
			for k := i - 1; k >= 0; k-- {
				c := strings.TrimSpace(lines[k])
				if c == "" || strings.HasSuffix(c, ".") || strings.HasSuffix(c, ":") || strings.Contains(c, "://") ||
					!strings.Contains(c, " ") || len(c) >= 80 || isMethod(c) {
					continue
				}
				cur = c
				break
			}
		}
		out[i] = cur
	}
	return out
}

// pair gives each request its documented answer and its name.
func pair(doc string, reqs []request, resps []respBlock, seed bool) []example {
	count := map[string]int{}
	for _, r := range reqs {
		count[r.heading]++
	}
	seen := map[string]int{}
	var out []example
	for i, r := range reqs {
		ex := r.ex
		ex.Doc, ex.Heading, ex.Line, ex.Seed = doc, r.heading, r.line, seed
		if count[r.heading] > 1 {
			seen[r.heading]++
			ex.N = seen[r.heading]
		}
		nextReq := 1 << 30
		if i+1 < len(reqs) && reqs[i+1].heading == r.heading {
			nextReq = reqs[i+1].line
		}
		var own, shared *respBlock
		for k := range resps {
			rb := &resps[k]
			if rb.line < r.line || rb.heading != r.heading {
				continue
			}
			if rb.line < nextReq && own == nil {
				own = rb
			}
			if shared == nil {
				shared = rb
			}
		}
		if own == nil {
			own = shared
		}
		if own != nil {
			ex.HasResponse = true
			if own.isJSON {
				ex.Response = own.value
			}
		}
		out = append(out, ex)
	}
	return out
}

// parseCurl reads one curl command from the start of s and returns the
// example and how many bytes of s it used. The command ends at the end of
// a line that does not end in a backslash and has no quote open, or where
// text is glued to a closing quote (a page that lost its line breaks).
func parseCurl(s string) (example, int, error) {
	words, used, err := shellWords(s)
	if err != nil {
		return example{}, 0, err
	}
	if len(words) == 0 || words[0] != "curl" {
		return example{}, 0, fmt.Errorf("not a curl command: %.40q", s)
	}
	var ex example
	var rawURL string
	hasCT := false
	dataGiven := false
	for i := 1; i < len(words); i++ {
		w := words[i]
		arg := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs a value", w)
			}
			i++
			return words[i], nil
		}
		var v string
		switch w {
		case "-X", "--request":
			if v, err = arg(); err != nil {
				return ex, 0, err
			}
			ex.Method = v
		case "-H", "--header":
			if v, err = arg(); err != nil {
				return ex, 0, err
			}
			k, val, ok := strings.Cut(v, ":")
			if !ok {
				return ex, 0, fmt.Errorf("bad header %q", v)
			}
			k = strings.TrimSpace(k)
			if strings.EqualFold(k, "Content-Type") {
				hasCT = true
			}
			ex.Headers = append(ex.Headers, [2]string{k, strings.TrimSpace(val)})
		case "-d", "--data", "--data-raw", "--data-binary", "--data-ascii":
			if v, err = arg(); err != nil {
				return ex, 0, err
			}
			if dataGiven {
				ex.Body = append(ex.Body, '&')
			}
			ex.Body = append(ex.Body, v...)
			dataGiven = true
		case "-F", "--form":
			if v, err = arg(); err != nil {
				return ex, 0, err
			}
			name, val, ok := strings.Cut(v, "=")
			if !ok {
				return ex, 0, fmt.Errorf("bad form part %q", v)
			}
			p := formPart{Name: name, Value: val}
			if strings.HasPrefix(val, "@") {
				p.File, p.Value = true, val[1:]
			} else if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				p.Value = val[1 : len(val)-1] // curl strips the quotes of a quoted value
			}
			ex.Form = append(ex.Form, p)
		case "--url":
			if rawURL, err = arg(); err != nil {
				return ex, 0, err
			}
		case "-o", "--output":
			if _, err = arg(); err != nil {
				return ex, 0, err
			}
		case "-L", "--location", "-s", "--silent", "-i", "-v":
		default:
			if strings.HasPrefix(w, "-") {
				return ex, 0, fmt.Errorf("unknown curl option %q", w)
			}
			if rawURL != "" {
				return ex, 0, fmt.Errorf("second URL %q", w)
			}
			rawURL = w
		}
	}
	if rawURL == "" {
		return ex, 0, fmt.Errorf("curl without URL")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ex, 0, fmt.Errorf("bad URL %q: %v", rawURL, err)
	}
	ex.Target = u.Path
	if u.RawQuery != "" {
		ex.Target += "?" + u.RawQuery
	}
	if ex.Method == "" {
		ex.Method = "GET"
		if dataGiven || len(ex.Form) > 0 {
			ex.Method = "POST"
		}
	}
	ex.CurlData = dataGiven && !hasCT
	return ex, used, nil
}

// shellWords splits a POSIX-shell command line: single and double quotes,
// backslash escapes, backslash-newline continuations. A backslash followed
// by a space is a continuation too (pages that lost their line breaks).
func shellWords(s string) ([]string, int, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	i := 0
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			flush()
			return words, i, nil
		case c == ' ' || c == '\t':
			flush()
			i++
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\n' || s[i+1] == ' '):
			flush()
			i += 2
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i += 2
		case c == '\'' || c == '"':
			end := i + 1
			for end < len(s) && s[end] != c {
				if c == '"' && s[end] == '\\' && end+1 < len(s) {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, 0, fmt.Errorf("unterminated quote")
			}
			q := s[i+1 : end]
			if c == '"' {
				q = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`).Replace(q)
			}
			cur.WriteString(q)
			inWord = true
			i = end + 1
			if i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\\' && s[i] != '\'' && s[i] != '"' {
				flush()
				return words, i, nil
			}
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	flush()
	return words, i, nil
}

// balancedJSON returns the JSON value at the start of s (brackets counted
// outside strings).
func balancedJSON(s string) (string, error) {
	depth := 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return s[:i+1], nil
			}
		}
	}
	return "", fmt.Errorf("unbalanced JSON")
}

var trailingComma = regexp.MustCompile(`,(\s*[}\]])`)

// lenientJSON parses a documented JSON value: // comments (outside strings)
// and trailing commas, which the annotation pages use, are removed first.
func lenientJSON(s string) (any, error) {
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		if c == '/' && i+1 < len(s) && s[i+1] == '/' {
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(c)
	}
	clean := trailingComma.ReplaceAllString(b.String(), "$1")
	dec := json.NewDecoder(bytes.NewReader([]byte(clean)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
