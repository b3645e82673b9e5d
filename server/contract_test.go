package server

// The API contract: openapi.yaml must list exactly the gin routes, and every
// request and response the integration tests exchange with a test server
// (newTestEnv, newLiveEnv) must validate against it. RecordHTTP records the
// exchanges; TestMain validates them after all tests ran and fails the
// package on any violation. -contract=false turns the recording off.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/canvasd/canvasd"
	"github.com/canvasd/canvasd/store"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
)

var contractFlag = flag.Bool("contract", true, "record HTTP exchanges of the integration tests and validate them against openapi.yaml")

// maxRecordedBody caps each recorded body; a longer body is validated by
// status and content type only.
const maxRecordedBody = 1 << 20

// exchange is one recorded request and its response.
type exchange struct {
	method, url     string
	reqHeader       http.Header
	reqBody         []byte
	reqTruncated    bool
	status          int
	respHeader      http.Header
	respBody        []byte
	respTruncated   bool
	hijacked        bool
	handlerPanicked bool
}

var contractRec struct {
	sync.Mutex
	ex []*exchange
}

// RecordHTTP wraps h so that each exchange is recorded for the contract check
// (when -contract is on).
func RecordHTTP(h http.Handler) http.Handler {
	if !*contractFlag {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := &exchange{method: r.Method, url: r.URL.String(), reqHeader: r.Header.Clone()}
		if r.Body != nil && r.Body != http.NoBody {
			cb := &captureBody{r: r.Body}
			r.Body = cb
			defer func() { ex.reqBody, ex.reqTruncated = cb.buf.Bytes(), cb.truncated || !cb.eof }()
		}
		rw := &recordWriter{ResponseWriter: w, ex: ex}
		defer func() {
			if rw.status == 0 {
				rw.status = http.StatusOK
			}
			ex.status = rw.status
			if ex.respHeader == nil {
				ex.respHeader = w.Header().Clone()
			}
			ex.respBody = rw.buf.Bytes()
			if p := recover(); p != nil {
				ex.handlerPanicked = true
				contractAdd(ex)
				panic(p)
			}
			contractAdd(ex)
		}()
		h.ServeHTTP(rw, r)
	})
}

func contractAdd(ex *exchange) {
	contractRec.Lock()
	contractRec.ex = append(contractRec.ex, ex)
	contractRec.Unlock()
}

// captureBody keeps the first maxRecordedBody bytes the handler reads.
type captureBody struct {
	r         io.ReadCloser
	buf       bytes.Buffer
	truncated bool
	eof       bool
	mu        sync.Mutex
}

func (c *captureBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	if n > 0 && !c.truncated {
		if c.buf.Len()+n > maxRecordedBody {
			c.truncated = true
		} else {
			c.buf.Write(p[:n])
		}
	}
	if err == io.EOF {
		c.eof = true
	}
	c.mu.Unlock()
	return n, err
}

func (c *captureBody) Close() error { return c.r.Close() }

// recordWriter captures the status, headers and (the start of) the body, and
// passes Flush, Hijack and Unwrap through so that streams and websockets work.
type recordWriter struct {
	http.ResponseWriter
	ex     *exchange
	status int
	buf    bytes.Buffer
	mu     sync.Mutex
}

func (w *recordWriter) WriteHeader(code int) {
	w.mu.Lock()
	if w.status == 0 || w.status < 200 && code >= 200 {
		if w.status == 0 || code >= 200 {
			w.status = code
			if code >= 200 {
				w.ex.respHeader = w.ResponseWriter.Header().Clone()
			}
		}
	}
	w.mu.Unlock()
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.status == 0 {
		w.status = http.StatusOK
		w.ex.respHeader = w.ResponseWriter.Header().Clone()
	}
	if !w.ex.respTruncated {
		if w.buf.Len()+len(p) > maxRecordedBody {
			w.ex.respTruncated = true
		} else {
			w.buf.Write(p)
		}
	}
	w.mu.Unlock()
	return w.ResponseWriter.Write(p)
}

func (w *recordWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("recordWriter: not a Hijacker")
	}
	w.mu.Lock()
	w.ex.hijacked = true
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	w.ex.respHeader = w.ResponseWriter.Header().Clone()
	w.mu.Unlock()
	return h.Hijack()
}

func (w *recordWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestMain runs the tests, then validates the recorded exchanges.
func TestMain(m *testing.M) {
	flag.Parse()
	gin.SetMode(gin.ReleaseMode) // as cmd/canvasd's main does

	code := m.Run()
	if *contractFlag {
		contractRec.Lock()
		exs := contractRec.ex
		contractRec.ex = nil
		contractRec.Unlock()
		if problems, err := validateExchanges(exs); err != nil {
			fmt.Fprintf(os.Stderr, "contract: %v\n", err)
			code = 1
		} else if len(problems) > 0 {
			fmt.Fprintf(os.Stderr, "--- FAIL: contract: %d of %d recorded exchanges do not match openapi.yaml:\n", len(problems), len(exs))
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, p)
			}
			code = 1
		} else if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "contract: %d recorded exchanges match openapi.yaml\n", len(exs))
		}
	}
	os.Exit(code)
}

// loadSpec loads and validates openapi.yaml.
func loadSpec() (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(canvasd.OpenAPI)
	if err != nil {
		return nil, nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	doc.Servers = nil // match any host: the test servers listen on 127.0.0.1:<port>
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("router: %w", err)
	}
	return doc, r, nil
}

func init() {
	for _, ct := range []string{"image/png", "image/jpeg", "image/webp", "image/gif", "image/svg+xml",
		"application/x-tar", "text/html", "text/javascript", "text/css"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// isStreamExchange tells whether a response is a stream validated by status and
// content type only.
func isStreamExchange(ex *exchange) bool {
	if ex.hijacked || ex.status == http.StatusSwitchingProtocols {
		return true
	}
	mt, _, _ := mime.ParseMediaType(ex.respHeader.Get("Content-Type"))
	return mt == "text/event-stream" || mt == "application/x-ndjson"
}

func validateExchanges(exs []*exchange) ([]string, error) {
	doc, router, err := loadSpec()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	covered := map[string]bool{}
	var problems []string
	for _, ex := range exs {
		if req, err := http.NewRequest(ex.method, "http://canvasd.test"+ex.url, nil); err == nil {
			if route, _, err := router.FindRoute(req); err == nil {
				covered[ex.method+" "+route.Path] = true
			}
		}
		if p := validateExchange(router, ex); p != "" && !seen[p] {
			seen[p] = true
			problems = append(problems, p)
		}
	}
	sort.Strings(problems)
	if testing.Verbose() {
		var un []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if !covered[method+" "+path] {
					un = append(un, method+" "+path)
				}
			}
		}
		sort.Strings(un)
		fmt.Fprintf(os.Stderr, "contract: %d operations without a recorded exchange: %v\n", len(un), un)
	}
	return problems, nil
}

var longRun = regexp.MustCompile(`[^\n]{400,}`)

func validateExchange(router routers.Router, ex *exchange) string {
	if ex.handlerPanicked {
		return ""
	}
	req, err := http.NewRequest(ex.method, "http://canvasd.test"+ex.url, bytes.NewReader(ex.reqBody))
	if err != nil {
		return ""
	}
	req.Header = ex.reqHeader
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Not an API route: the web client's files (NoRoute), or a 404/405
		// for a path or method that does not exist.
		if ex.status == http.StatusNotFound || ex.status == http.StatusMethodNotAllowed || !isAPIPath(req.URL.Path) {
			return ""
		}
		return fmt.Sprintf("%s %s -> %d: no route in openapi.yaml (%v)", ex.method, req.URL.Path, ex.status, err)
	}
	name := fmt.Sprintf("%s %s -> %d", ex.method, route.Path, ex.status)
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			ExcludeRequestBody: ex.reqTruncated,
			MultiError:         true,
		},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && ex.status < 300 && ex.status != http.StatusSwitchingProtocols {
		return fmt.Sprintf("%s: the server accepted a request the spec refuses: %s", name, short(reqErr))
	}
	// The response must match its documented status, whatever the request.
	resp := route.Operation.Responses
	rr := resp.Status(ex.status)
	if rr == nil {
		rr = resp.Default()
	}
	if rr == nil {
		return fmt.Sprintf("%s: status not documented", name)
	}
	if isStreamExchange(ex) || ex.respTruncated || ex.method == http.MethodHead {
		ct := ex.respHeader.Get("Content-Type")
		if ex.status == http.StatusSwitchingProtocols || ct == "" || len(rr.Value.Content) == 0 {
			return ""
		}
		if rr.Value.Content.Get(ct) == nil {
			return fmt.Sprintf("%s: content type %q not documented", name, ct)
		}
		return ""
	}
	in.Options = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.status, Header: ex.respHeader, Options: in.Options}
	rin.SetBodyBytes(ex.respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		return fmt.Sprintf("%s: response: %s\n    body: %.300s", name, short(err), ex.respBody)
	}
	return ""
}

func short(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i >= 0 { // kin-openapi appends the whole schema and value
		s = s[:i]
	}
	s = longRun.ReplaceAllStringFunc(s, func(m string) string { return m[:400] + "…" })
	if len(s) > 1500 {
		s = s[:1500] + "…"
	}
	return strings.ReplaceAll(s, "\n", "\n    ")
}

func isAPIPath(p string) bool {
	for _, pre := range []string{"/api/", "/v1/", "/uncrop/", "/admin/", "/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// TestOpenAPIRoutes: the spec loads, validates, and lists exactly the gin routes.
func TestOpenAPIRoutes(t *testing.T) {
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := New(Config{}, st, NewHub(st, 0), zerolog.Nop())
	gin := map[string]bool{}
	for _, r := range srv.Engine().Routes() {
		gin[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	spec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			spec[method+" "+path] = true
		}
	}
	var missing, extra []string
	for k := range gin {
		if !spec[k] {
			missing = append(missing, k)
		}
	}
	for k := range spec {
		if !gin[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("gin route missing from openapi.yaml: %s", k)
	}
	for _, k := range extra {
		t.Errorf("openapi.yaml lists a route gin does not have: %s", k)
	}
	if len(gin) < 60 {
		t.Errorf("only %d gin routes: did route registration change?", len(gin))
	}
}

// TestContractCatchesViolations: the validator is not vacuous.
func TestContractCatchesViolations(t *testing.T) {
	_, router, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	good := &exchange{method: "GET", url: "/api/v1/server-info", reqHeader: http.Header{}, status: 200, respHeader: h,
		respBody: []byte(`{"api":["v1.2"],"go":"go1","server_id":"x","version":"canvasd"}`)}
	if p := validateExchange(router, good); p != "" {
		t.Fatalf("a valid exchange was refused: %s", p)
	}
	for name, ex := range map[string]*exchange{
		"wrong body": {method: "GET", url: "/api/v1/server-info", reqHeader: http.Header{}, status: 200, respHeader: h,
			respBody: []byte(`{"api":"v1.2"}`)},
		"undocumented status": {method: "GET", url: "/api/v1/server-info", reqHeader: http.Header{}, status: 418, respHeader: h,
			respBody: []byte(`{}`)},
		"unknown api route": {method: "GET", url: "/api/v1/nothing-here", reqHeader: http.Header{}, status: 200, respHeader: h,
			respBody: []byte(`{}`)},
		"accepted invalid request": {method: "POST", url: "/v1/banners/with-mask/status",
			reqHeader: http.Header{"Content-Type": {"application/json"}}, reqBody: []byte(`{"limit": 1000}`),
			status: 200, respHeader: h, respBody: []byte(`{"jobs":[],"results":[],"error_message":"","start":0,"limit":1000,"total":0}`)},
	} {
		if p := validateExchange(router, ex); p == "" {
			t.Errorf("%s: not caught", name)
		}
	}
}
