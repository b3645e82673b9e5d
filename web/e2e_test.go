package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canvasd/canvasd/internal/headless"
	"github.com/canvasd/canvasd/server"
	"github.com/canvasd/canvasd/store"
	"github.com/canvasd/canvasd/web"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

const chromiumPath = headless.Path

// liveDeadline is how soon another viewer must see a change (issue 8).
const liveDeadline = 2 * time.Second

// env is one real server and one headless Chromium with a browser context
// per signed-in person.
type env struct {
	t       *testing.T
	ts      *httptest.Server
	st      *store.Store
	admin   string // admin token
	browser context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		// Fails under CI (CI set to anything but "" / "0" / "false"); skips elsewhere.
		const install = "apt-get install -y chromium"
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
			t.Fatalf("no chromium at %s: %v; install it: %s (CI is set: a missing dependency fails the run)", chromiumPath, err, install)
		}
		t.Skipf("no chromium at %s: %v; install it: %s", chromiumPath, err, install)
	}
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.NewHub(st, 0)
	srv := server.New(server.Config{}, st, h, zerolog.Nop(), server.WithWeb(web.FS()), server.WithWebProbe())
	srv.Start()
	ts := httptest.NewServer(srv.Handler())
	admin, _, err := server.Bootstrap(st, "tok")
	if err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), headless.Options(t.TempDir(),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1440, 900),
	)...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		h.Close(ctx)
		ts.Close()
		st.Close()
	})
	return &env{t: t, ts: ts, st: st, admin: admin, browser: browser}
}

// api calls the server as the holder of token and decodes the answer into out.
func (e *env) api(token, method, path string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	req.Header.Set("Private-Token", token)
	if strings.HasPrefix(path, "/api/canvas/") {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res.StatusCode
}

func (e *env) mustAPI(token, method, path string, body, out any) {
	e.t.Helper()
	if code := e.api(token, method, path, body, out); code >= 300 {
		e.t.Fatalf("%s %s: status %d", method, path, code)
	}
}

type person struct {
	ID    uint64
	Name  string
	Email string
	Token string
}

// newUser creates a user and an access token for them (the admin's API).
// Only a user who signs in through the form gets a password: bcrypt is slow
// under -race.
func (e *env) newUser(name string, password bool) person {
	e.t.Helper()
	email := strings.ToLower(strings.Fields(name)[0]) + "@example.com"
	body := map[string]any{"email": email, "name": name}
	if password {
		body["password"] = "pw-" + name
	}
	var u struct{ ID uint64 }
	e.mustAPI(e.admin, "POST", "/api/v1/users", body, &u)
	var tk struct {
		PlainToken string `json:"plain_token"`
	}
	e.mustAPI(e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/access-tokens", u.ID), map[string]any{"description": "e2e"}, &tk)
	if tk.PlainToken == "" {
		e.t.Fatalf("no token for %s", email)
	}
	return person{ID: u.ID, Name: name, Email: email, Token: tk.PlainToken}
}

func (e *env) newCanvas(owner person, name string, share map[uint64]string) string {
	e.t.Helper()
	var cv struct{ ID string }
	e.mustAPI(owner.Token, "POST", "/api/v1/canvases", map[string]any{"name": name}, &cv)
	var users []map[string]any
	for id, p := range share {
		users = append(users, map[string]any{"id": id, "permission": p})
	}
	if len(users) > 0 {
		e.mustAPI(owner.Token, "POST", "/api/v1/canvases/"+cv.ID+"/permissions", map[string]any{"users": users}, nil)
	}
	return cv.ID
}

// uploadImage creates an image widget through the Canvus API.
func (e *env) uploadImage(token, canvasID, name string, data []byte, meta map[string]any) map[string]any {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	j, _ := json.Marshal(meta)
	mw.WriteField("json", string(j))
	fw, _ := mw.CreateFormFile("data", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/canvases/"+canvasID+"/images", &buf)
	req.Header.Set("Private-Token", token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var w map[string]any
	json.NewDecoder(res.Body).Decode(&w)
	if res.StatusCode != 200 {
		e.t.Fatalf("upload %s: status %d %v", name, res.StatusCode, w)
	}
	return w
}

func (e *env) widgets(token, canvasID string) map[string]map[string]any {
	e.t.Helper()
	var list []map[string]any
	e.mustAPI(token, "GET", "/api/v1/canvases/"+canvasID+"/widgets", nil, &list)
	out := map[string]map[string]any{}
	for _, w := range list {
		out[w["id"].(string)] = w
	}
	return out
}

// tab opens a page in a fresh browser context (its own cookies and storage).
func (e *env) tab(url string, w, h int64) context.Context {
	e.t.Helper()
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	e.t.Cleanup(cancel)
	// A safety net only: each wait below has its own, shorter deadline.
	ctx, cancelT := context.WithTimeout(ctx, 10*time.Minute)
	e.t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Navigate(url)); err != nil {
		e.t.Fatalf("open %s: %v", url, err)
	}
	return ctx
}

// run runs browser steps; a step that waits (WaitVisible, ...) gives up
// after 30 s instead of hanging the test.
func run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls a JavaScript condition until it holds or d passes.
func waitJS(t testing.TB, ctx context.Context, what, cond string, d time.Duration) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil || !ok {
		name := "failed-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(what))
		if buf, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
			os.WriteFile(filepath.Join("testdata", "screenshots", name+".png"), buf, 0o644)
		}
		t.Fatalf("%s: condition %q not met within %v: %v (screenshot %s.png)", what, cond, d, err, name)
	}
}

func evalJS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return out
}

// center returns the viewport coordinates of an element's centre.
func center(t testing.TB, ctx context.Context, sel string) (float64, float64) {
	t.Helper()
	return at(t, ctx, sel, 0.5, 0.5)
}

// at returns the viewport coordinates of the point (fx, fy) of an element's
// box, in fractions of its width and height.
func at(t testing.TB, ctx context.Context, sel string, fx, fy float64) (float64, float64) {
	t.Helper()
	p := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return null; const r = el.getBoundingClientRect(); return [r.x + r.width*%v, r.y + r.height*%v]; })()`, sel, fx, fy))
	if len(p) != 2 {
		t.Fatalf("no element %s", sel)
	}
	return p[0], p[1]
}

// drag presses the left button at (x, y), moves by (dx, dy) in steps and releases.
func drag(t testing.TB, ctx context.Context, x, y, dx, dy float64) {
	t.Helper()
	run(t, ctx, "drag", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		send := func(p input.DispatchMouseEventParams) error {
			_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, p)
			return err
		}
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y}); err != nil {
			return err
		}
		if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMousePressed, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1}); err != nil {
			return err
		}
		const steps = 8
		for i := 1; i <= steps; i++ {
			f := float64(i) / steps
			if err := send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x + dx*f, Y: y + dy*f, Button: input.MouseButtonLeft, Buttons: 1}); err != nil {
				return err
			}
		}
		return send(input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseReleased, X: x + dx, Y: y + dy, Button: input.MouseButtonLeft, ClickCount: 1})
	}))
}

func moveMouse(t testing.TB, ctx context.Context, x, y float64) {
	t.Helper()
	run(t, ctx, "move mouse", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y})
		return err
	}))
}

// screenshot saves the page as an artifact under testdata/screenshots.
func screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("testdata", "screenshots")
	os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitLive(t testing.TB, ctx context.Context, who string) {
	t.Helper()
	waitJS(t, ctx, who+" live", `!!(window.__canvasd && window.__canvasd.state && window.__canvasd.state().status === 'live' && document.querySelector('#viewers .avatar'))`, 15*time.Second)
}

func loc(w map[string]any) (float64, float64) {
	l, _ := w["location"].(map[string]any)
	x, _ := l["x"].(float64)
	y, _ := l["y"].(float64)
	return x, y
}

// ---------------------------------------------------------------- images

// chartPNG draws a bar chart page: real pixels with known colours.
func chartPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), color.NRGBA{255, 255, 255, 255})
	fill(img, image.Rect(0, 0, w, h/8), color.NRGBA{238, 240, 255, 255})
	fill(img, image.Rect(w/16, h/16-3, w/2, h/16+3), color.NRGBA{79, 70, 229, 255})
	base := h - h/8
	fill(img, image.Rect(w/12, base, w-w/12, base+2), color.NRGBA{150, 158, 175, 255})
	for i := 1; i < 5; i++ {
		y := base - i*(base-h/4)/4
		fill(img, image.Rect(w/12, y, w-w/12, y+1), color.NRGBA{228, 231, 238, 255})
	}
	vals := []float64{.42, .55, .48, .71, .66, .84, .93}
	cols := []color.NRGBA{{99, 102, 241, 255}, {99, 102, 241, 255}, {99, 102, 241, 255}, {99, 102, 241, 255}, {99, 102, 241, 255}, {20, 184, 166, 255}, {20, 184, 166, 255}}
	bw := (w - w/6) / len(vals)
	for i, v := range vals {
		x0 := w/12 + i*bw + bw/5
		top := base - int(v*float64(base-h/4))
		fill(img, image.Rect(x0, top, x0+bw*3/5, base), cols[i])
	}
	return encode(img)
}

// photoPNG draws a landscape: sky gradient, sun, layered hills and lake.
func photoPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		f := float64(y) / float64(h)
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(255 - 90*f), uint8(196 - 40*f), uint8(150 + 60*f), 255}
			dx, dy := float64(x-w*2/3), float64(y-h*2/5)
			if d := math.Hypot(dx, dy); d < float64(h)/8 {
				c = color.NRGBA{255, 236, 179, 255}
			}
			hill1 := float64(h)*0.62 + 40*math.Sin(float64(x)/90) + 18*math.Sin(float64(x)/33)
			hill2 := float64(h)*0.74 + 30*math.Sin(float64(x)/140+1.5)
			switch {
			case float64(y) > float64(h)*0.86:
				c = color.NRGBA{uint8(60 + 30*math.Sin(float64(x)/7+float64(y)/3)), 112, 160, 255}
			case float64(y) > hill2:
				c = color.NRGBA{46, uint8(110 + 20*f), 84, 255}
			case float64(y) > hill1:
				c = color.NRGBA{94, 140, 110, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return encode(img)
}

func fill(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
}

func encode(img image.Image) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// ----------------------------------------------------------------- tests

func TestBrowser(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", true)
	bob := e.newUser("Bob Chen", false)
	vera := e.newUser("Vera Holt", false)
	cid := e.newCanvas(alice, "Q3 review", map[uint64]string{bob.ID: "edit", vera.ID: "view"})
	imgFile := filepath.Join(t.TempDir(), "revenue-chart.png")
	if err := os.WriteFile(imgFile, chartPNG(900, 600), 0o644); err != nil {
		t.Fatal(err)
	}

	// Alice signs in with her password and opens the canvas from the list.
	a := e.tab(e.ts.URL+"/", 1440, 900)
	run(t, a, "sign-in page", chromedp.WaitVisible(chromedp.CSS("#login-email")))
	screenshot(t, a, "sign-in")
	run(t, a, "sign in",
		chromedp.SendKeys(chromedp.CSS("#login-email"), alice.Email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), "pw-"+alice.Name),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.canvas-card[data-id=%q] .card-name`, cid))))
	screenshot(t, a, "canvas-list")
	run(t, a, "open canvas", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.canvas-card[data-id=%q] .card-name`, cid))))
	waitLive(t, a, "alice")

	// Bob opens a token link.
	b := e.tab(e.ts.URL+"/c/"+cid+"#token="+bob.Token, 1440, 900)
	waitLive(t, b, "bob")

	var imageID string
	t.Run("two viewers see a new note and a dragged image", func(t *testing.T) {
		// Alice uploads through the file picker.
		run(t, a, "upload", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{imgFile}))
		waitJS(t, a, "alice sees her image", `!!document.querySelector('.w-image.loaded')`, 10*time.Second)
		imageID = evalJS[string](t, a, `document.querySelector('.w-image').dataset.id`)
		waitJS(t, b, "bob sees the image", fmt.Sprintf(`!!document.querySelector('.w-image[data-id=%q]')`, imageID), liveDeadline)

		// Alice adds a note and types into it.
		run(t, a, "add note", chromedp.Click(chromedp.CSS("#tool-note")), chromedp.WaitVisible(chromedp.CSS(".w-note.editing .note-text")))
		run(t, a, "type", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: "Check the EMEA row before Friday"})
			return err
		}), chromedp.KeyEvent("\x1b"))
		waitJS(t, a, "note saved", `!document.querySelector('.w-note.editing')`, 5*time.Second)
		waitJS(t, b, "bob sees the note", `[...document.querySelectorAll('.w-note .note-text')].some(n => n.textContent === 'Check the EMEA row before Friday')`, liveDeadline)

		// Alice drags the image 220 px right and 140 px down.
		before := e.widgets(alice.Token, cid)[imageID]
		bx, by := loc(before)
		run(t, a, "select nothing", chromedp.KeyEvent("\x1b"))
		// Grab the image near its top-left corner: the new note sits on its centre.
		x, y := at(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, imageID), 0.15, 0.15)
		z := evalJS[float64](t, a, `window.__canvasd.view.view.z`)
		drag(t, a, x, y, 220, 140)
		wantX, wantY := bx+220/z, by+140/z
		waitJS(t, b, "bob sees the image moved", fmt.Sprintf(
			`(() => { const el = document.querySelector('.w-image[data-id=%q]'); return el && Math.abs(el.dataset.x - %f) < 1 && Math.abs(el.dataset.y - %f) < 1; })()`,
			imageID, wantX, wantY), liveDeadline)
		ax, ay := loc(e.widgets(alice.Token, cid)[imageID])
		if math.Abs(ax-wantX) > 1 || math.Abs(ay-wantY) > 1 {
			t.Errorf("server location = (%v, %v), want (%v, %v)", ax, ay, wantX, wantY)
		}
		// Bob sees Alice's cursor, with her name.
		moveMouse(t, a, 700, 500)
		waitJS(t, b, "bob sees alice's cursor", `!!document.querySelector('.cursor[data-name="Alice Martin"]')`, liveDeadline)
		screenshot(t, a, "alice-after-edits")
		screenshot(t, b, "bob-sees-edits")
	})

	t.Run("re-crop in the UI reaches the other viewer", func(t *testing.T) {
		if imageID == "" {
			t.Fatal("no image: the first subtest failed to upload one")
		}
		run(t, a, "select image", chromedp.KeyEvent("\x1b"))
		x, y := center(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, imageID))
		run(t, a, "click image", chromedp.MouseClickXY(x, y))
		run(t, a, "open re-crop", chromedp.WaitVisible(chromedp.CSS("#fb-recrop")), chromedp.Click(chromedp.CSS("#fb-recrop")))
		waitJS(t, a, "source loaded", `(() => { const i = document.querySelector('.recrop-img'); return !!(i && i.complete && i.naturalWidth); })()`, 10*time.Second)
		hx, hy := center(t, a, ".rh-se")
		drag(t, a, hx, hy, -120, -90)
		hx, hy = center(t, a, ".rh-nw")
		drag(t, a, hx, hy, 40, 30)
		box := evalJS[string](t, a, `document.querySelector('#recrop-box').dataset.box`)
		screenshot(t, a, "recrop-modal")
		run(t, a, "apply", chromedp.Click(chromedp.CSS("#recrop-apply")))
		waitJS(t, b, "bob sees version 1", fmt.Sprintf(
			`(() => { const el = document.querySelector('.w-image[data-id=%q]'); return !!el && el.dataset.version === '1' && el.querySelector('img').getAttribute('src').includes('.1'); })()`, imageID), 5*time.Second)
		var vs struct {
			Versions []struct {
				Version int
				BBox    *struct{ X, Y, Width, Height float64 }
			}
		}
		e.mustAPI(alice.Token, "GET", "/api/canvas/"+cid+"/images/"+imageID+"/versions", nil, &vs)
		if n := len(vs.Versions); n != 2 || vs.Versions[1].BBox == nil {
			t.Fatalf("versions after one re-crop = %+v", vs.Versions)
		}
		var sent struct{ X, Y, Width, Height float64 }
		json.Unmarshal([]byte(box), &sent)
		got := vs.Versions[1].BBox
		if math.Abs(got.X-sent.X) > 1e-3 || math.Abs(got.Width-sent.Width) > 1e-3 || sent.Width > 0.95 || sent.X < 0.01 {
			t.Errorf("stored bbox %+v, the UI sent %+v", *got, sent)
		}
		screenshot(t, b, "bob-sees-recrop")
	})

	t.Run("uncrop in the UI reaches the other viewer", func(t *testing.T) {
		// A small photo of its own: the fill is heavy under -race.
		pw := e.uploadImage(alice.Token, cid, "venue.png", photoPNG(240, 150), map[string]any{"title": "Venue",
			"location": map[string]any{"x": -700, "y": 420}})
		pid := pw["id"].(string)
		sel := fmt.Sprintf(`.w-image[data-id=%q]`, pid)
		waitJS(t, b, "bob sees the photo", fmt.Sprintf(`!!document.querySelector(%q)`, sel+".loaded"), liveDeadline)
		hashBefore := e.widgets(alice.Token, cid)[pid]["hash"]
		run(t, a, "deselect and fit", chromedp.KeyEvent("\x1b"), chromedp.Evaluate[chromedp.Void](`window.__canvasd.view.fit()`), chromedp.Sleep(100*time.Millisecond))
		x, y := center(t, a, sel)
		run(t, a, "select photo", chromedp.MouseClickXY(x, y))
		run(t, a, "open uncrop", chromedp.WaitVisible(chromedp.CSS("#fb-uncrop")), chromedp.Click(chromedp.CSS("#fb-uncrop")),
			chromedp.WaitVisible(chromedp.CSS("#uncrop-right")),
			chromedp.SetValue(chromedp.CSS("#uncrop-right"), "120"),
			chromedp.SetValue(chromedp.CSS("#uncrop-seed"), "7"))
		screenshot(t, a, "uncrop-dialog")
		run(t, a, "apply uncrop", chromedp.Click(chromedp.CSS("#uncrop-apply")))
		waitJS(t, a, "dialog closes", `!document.querySelector('.modal')`, 60*time.Second)
		w := e.widgets(alice.Token, cid)[pid]
		hash, _ := w["hash"].(string)
		if hash == "" || hash == hashBefore {
			t.Fatalf("server hash after uncrop = %q (before %q)", hash, hashBefore)
		}
		size := w["size"].(map[string]any)
		if r := size["width"].(float64) / size["height"].(float64); math.Abs(r-360.0/150) > 0.02 {
			t.Errorf("uncropped aspect = %v, want %v (240+120 by 150)", r, 360.0/150)
		}
		waitJS(t, b, "bob sees the uncropped image", fmt.Sprintf(
			`(() => { const el = document.querySelector(%q); return !!el && el.dataset.hash === %q && el.classList.contains('loaded'); })()`, sel, hash), liveDeadline)
		screenshot(t, b, "bob-sees-uncrop")
	})

	t.Run("digitize shows per-element progress", func(t *testing.T) {
		if imageID == "" {
			t.Fatal("no image: the first subtest failed to upload one")
		}
		tw := e.uploadImage(alice.Token, cid, "table.png", ruledTablePNG(t, [][]string{{"Region", "Q1", "Q2"}, {"EMEA", "4.2", "4.6"}, {"APAC", "2.9", "3.3"}}), map[string]any{"title": "Table scan",
			"location": map[string]any{"x": -900, "y": -300}})
		tid := tw["id"].(string)
		waitJS(t, a, "alice sees the table scan", fmt.Sprintf(`!!document.querySelector('.w-image.loaded[data-id=%q]')`, tid), liveDeadline)
		run(t, a, "deselect", chromedp.KeyEvent("\x1b"), chromedp.Evaluate[chromedp.Void](`window.__canvasd.view.fit()`))
		x, y := at(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, tid), 0.5, 0.5)
		run(t, a, "select the scan", chromedp.MouseClickXY(x, y))
		run(t, a, "digitize", chromedp.WaitVisible(chromedp.CSS("#fb-digitize")), chromedp.Click(chromedp.CSS("#fb-digitize")),
			chromedp.WaitVisible(chromedp.CSS("#digitize-start")), chromedp.Click(chromedp.CSS("#digitize-start")))
		start := time.Now()
		waitJS(t, a, "digitize finishes", `(() => { const p = document.querySelector('#digitize-panel'); return !!p && p.classList.contains('finished'); })()`, 2*time.Minute)
		t.Logf("digitize of one table took %v", time.Since(start).Round(time.Millisecond))
		screenshot(t, a, "digitize-progress")
		state := evalJS[string](t, a, fmt.Sprintf(`document.querySelector('#digitize-panel .job[data-id=%q]')?.dataset.state || document.querySelector('#digitize-panel').textContent`, tid))
		if state != "done" {
			t.Fatalf("digitize element state = %q", state)
		}
		waitJS(t, b, "bob sees a table", `!!document.querySelector('.w-table td')`, liveDeadline)
		screenshot(t, b, "bob-sees-table")
	})

	t.Run("a view-only drag changes nothing", func(t *testing.T) {
		if imageID == "" {
			t.Fatal("no image: the first subtest failed to upload one")
		}
		v := e.tab(e.ts.URL+"/c/"+cid+"#token="+vera.Token, 1440, 900)
		waitLive(t, v, "vera")
		waitJS(t, v, "view-only badge", `!document.querySelector('#view-only').hidden && document.querySelector('#tool-note').offsetParent === null`, 5*time.Second)
		waitJS(t, v, "vera sees the image", fmt.Sprintf(`!!document.querySelector('.w-image.loaded[data-id=%q]')`, imageID), 5*time.Second)
		before := e.widgets(alice.Token, cid)
		x, y := at(t, v, fmt.Sprintf(`.w-image[data-id=%q]`, imageID), 0.8, 0.8)
		if hit := evalJS[string](t, v, fmt.Sprintf(`document.elementFromPoint(%v, %v).closest('.widget')?.dataset.id || ''`, x, y)); hit != imageID {
			t.Fatalf("the drag would start on %q, not on the image", hit)
		}
		drag(t, v, x, y, 180, 120)
		if n := evalJS[int](t, v, `document.querySelectorAll('.handle').length`); n != 0 {
			t.Errorf("view-only user sees %d resize handles", n)
		}
		run(t, v, "press delete", chromedp.KeyEvent("\x7f"))
		if n := evalJS[int](t, v, `document.querySelectorAll('.modal').length`); n != 0 {
			t.Errorf("view-only user got a delete dialog")
		}
		// Any write the page made would go out at once; a PING round trip
		// on the same websocket proves the page is idle and its events are in.
		waitJS(t, v, "idle", `window.__canvasd.state().status === 'live'`, time.Second)
		after := e.widgets(alice.Token, cid)
		bx, by := loc(before[imageID])
		ax, ay := loc(after[imageID])
		if bx != ax || by != ay || len(before) != len(after) {
			t.Errorf("view-only drag changed the server: (%v,%v) -> (%v,%v), %d -> %d widgets", bx, by, ax, ay, len(before), len(after))
		}
		screenshot(t, v, "view-only")
	})

	t.Run("a dropped websocket recovers with since", func(t *testing.T) {
		if imageID == "" {
			t.Fatal("no image: the first subtest failed to upload one")
		}
		// Bob's socket goes down for 1.5 s while Alice keeps editing.
		run(t, b, "drop", chromedp.Evaluate[chromedp.Void](`window.__canvasd.statusLog.length = 0; window.__canvasd.dropSocket(1500)`))
		waitJS(t, b, "reconnecting state", `document.querySelector('#conn-status').dataset.state === 'reconnecting' && !document.querySelector('#conn-banner').hidden`, time.Second)
		screenshot(t, b, "bob-reconnecting")
		var note map[string]any
		e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/notes", map[string]any{
			"text": "Added while Bob was offline", "background_color": "#cfe8ff", "location": map[string]any{"x": -420, "y": 260},
		}, &note)
		e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/images/"+imageID, map[string]any{"location": map[string]any{"x": 40, "y": -30}}, nil)
		for _, w := range e.widgets(alice.Token, cid) {
			if w["widget_type"] == "Note" && w["id"] != note["id"] {
				e.mustAPI(alice.Token, "PATCH", "/api/v1/canvases/"+cid+"/notes/"+w["id"].(string), map[string]any{"text": "Edited while Bob was offline"}, nil)
			}
		}
		waitLive(t, b, "bob again")
		log := evalJS[[]string](t, b, `window.__canvasd.statusLog`)
		if !strings.Contains(strings.Join(log, ","), "reconnecting,live") {
			t.Errorf("status log %v lacks reconnecting then live", log)
		}
		// Bob ends with exactly the server's (and Alice's) widgets.
		want := e.widgets(alice.Token, cid)
		wantJSON := canonical(t, want)
		var got string
		deadline := time.Now().Add(liveDeadline)
		for {
			got = canonical(t, browserWidgets(t, b))
			if got == wantJSON || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got != wantJSON {
			t.Fatalf("after reconnect bob has\n%s\nwant\n%s", got, wantJSON)
		}
		if a := canonical(t, browserWidgets(t, a)); a != wantJSON {
			t.Errorf("alice's page differs from the server:\n%s\nwant\n%s", a, wantJSON)
		}
		waitJS(t, b, "bob shows the offline note", `[...document.querySelectorAll('.note-text')].some(n => n.textContent === 'Added while Bob was offline')`, liveDeadline)
		screenshot(t, b, "bob-recovered")
	})

	t.Run("resize keeps an image's aspect and delete asks first", func(t *testing.T) {
		if imageID == "" {
			t.Fatal("no image: the first subtest failed to upload one")
		}
		before := e.widgets(alice.Token, cid)[imageID]
		size0 := before["size"].(map[string]any)
		run(t, a, "deselect and fit", chromedp.KeyEvent("\x1b"), chromedp.Evaluate[chromedp.Void](`window.__canvasd.view.fit()`), chromedp.Sleep(100*time.Millisecond))
		x, y := at(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, imageID), 0.8, 0.8)
		run(t, a, "select image", chromedp.MouseClickXY(x, y), chromedp.WaitVisible(chromedp.CSS(".sel-box .h-se")))
		hx, hy := center(t, a, ".sel-box .h-se")
		drag(t, a, hx, hy, -160, -10)
		var size map[string]any
		deadline := time.Now().Add(liveDeadline)
		for {
			size = e.widgets(alice.Token, cid)[imageID]["size"].(map[string]any)
			if size["width"] != size0["width"] || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		w0, h0 := size0["width"].(float64), size0["height"].(float64)
		w1, h1 := size["width"].(float64), size["height"].(float64)
		if w1 >= w0 || math.Abs(w1/h1-w0/h0) > 0.01 {
			t.Errorf("resize: %vx%v -> %vx%v, want smaller with the same aspect", w0, h0, w1, h1)
		}
		waitJS(t, b, "bob sees the new size", fmt.Sprintf(`Math.abs(document.querySelector('.w-image[data-id=%q]').dataset.w - %f) < 1`, imageID, w1), liveDeadline)

		// Delete a note with the Delete key: it goes at once (undo brings it back, issue 16).
		var note map[string]any
		e.mustAPI(alice.Token, "POST", "/api/v1/canvases/"+cid+"/notes", map[string]any{"text": "Delete me", "location": map[string]any{"x": -900, "y": 300}}, &note)
		nid := note["id"].(string)
		sel := fmt.Sprintf(`.w-note[data-id=%q]`, nid)
		waitJS(t, a, "alice sees the note", fmt.Sprintf(`!!document.querySelector(%q)`, sel), liveDeadline)
		run(t, a, "fit", chromedp.KeyEvent("\x1b"), chromedp.Evaluate[chromedp.Void](`window.__canvasd.view.fit()`), chromedp.Sleep(100*time.Millisecond))
		x, y = center(t, a, sel)
		run(t, a, "select note", chromedp.MouseClickXY(x, y), chromedp.KeyEvent("\x7f"))
		waitJS(t, b, "bob sees the note go", fmt.Sprintf(`!document.querySelector(%q)`, sel), liveDeadline)
		if _, ok := e.widgets(alice.Token, cid)[nid]; ok {
			t.Error("the note is still on the server")
		}
	})

	t.Run("canvas list: create, rename, share by link, delete", func(t *testing.T) {
		l := e.tab(e.ts.URL+"/#token="+alice.Token, 1280, 800)
		run(t, l, "new canvas", chromedp.WaitVisible(chromedp.CSS("#new-canvas")), chromedp.Click(chromedp.CSS("#new-canvas")),
			chromedp.WaitVisible(chromedp.CSS(".modal input")), chromedp.SetValue(chromedp.CSS(".modal input"), "Roadmap"),
			chromedp.Click(chromedp.CSS("#prompt-ok")))
		waitLive(t, l, "new canvas")
		id := evalJS[string](t, l, `location.pathname.split('/')[2]`)
		if title := evalJS[string](t, l, `document.querySelector('#canvas-title').textContent`); title != "Roadmap" {
			t.Errorf("title = %q", title)
		}
		card := fmt.Sprintf(`.canvas-card[data-id=%q]`, id)
		run(t, l, "back to the list", chromedp.Click(chromedp.CSS(".back")), chromedp.WaitVisible(chromedp.CSS(card)),
			chromedp.Click(chromedp.CSS(card+` [data-action=rename]`)), chromedp.WaitVisible(chromedp.CSS(".modal input")),
			chromedp.SetValue(chromedp.CSS(".modal input"), "Roadmap 2027"), chromedp.Click(chromedp.CSS("#prompt-ok")))
		waitJS(t, l, "renamed", fmt.Sprintf(`document.querySelector(%q)?.textContent === 'Roadmap 2027'`, card+" .card-name"), 5*time.Second)
		run(t, l, "share", chromedp.Click(chromedp.CSS(card+` [data-action=share]`)), chromedp.WaitVisible(chromedp.CSS(`input[name=link-perm][value=view]`)),
			chromedp.Click(chromedp.CSS(`input[name=link-perm][value=view]`)))
		screenshot(t, l, "share-dialog")
		run(t, l, "save sharing", chromedp.Click(chromedp.CSS("#share-save")))
		waitJS(t, l, "dialog closed", `!document.querySelector('.modal')`, 5*time.Second)
		var perms struct {
			LinkPermission string `json:"link_permission"`
		}
		e.mustAPI(alice.Token, "GET", "/api/v1/canvases/"+id+"/permissions", nil, &perms)
		if perms.LinkPermission != "view" {
			t.Fatalf("link_permission = %q, want view", perms.LinkPermission)
		}
		// Anyone with the link can now watch, signed out, and change nothing.
		g := e.tab(e.ts.URL+"/c/"+id, 1280, 800)
		waitLive(t, g, "guest")
		waitJS(t, g, "guest is view-only", `!document.querySelector('#view-only').hidden && document.querySelector('#canvas-title').textContent === 'Roadmap 2027'`, 5*time.Second)
		run(t, l, "delete", chromedp.Click(chromedp.CSS(card+` [data-action=delete]`)), chromedp.WaitVisible(chromedp.CSS("#confirm-ok")),
			chromedp.Click(chromedp.CSS("#confirm-ok")))
		waitJS(t, l, "card gone", fmt.Sprintf(`!document.querySelector(%q)`, card), 5*time.Second)
		if code := e.api(alice.Token, "GET", "/api/v1/canvases/"+id, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET deleted canvas: %d", code)
		}
		waitJS(t, g, "the guest is told", `location.pathname === '/' || document.querySelector('#conn-status').dataset.state === 'closed'`, 5*time.Second)
	})

	t.Run("two viewers' cursors on a canvas with images, notes and a table", func(t *testing.T) {
		carol := e.newUser("Carol Diaz", false)
		demo := e.demoCanvas(alice, map[uint64]string{bob.ID: "edit", carol.ID: "edit"})
		const w, h = 1600, 1000
		run(t, a, "alice opens the demo", chromedp.EmulateViewport(w, h), chromedp.Navigate(e.ts.URL+"/c/"+demo.canvas))
		waitLive(t, a, "alice")
		run(t, b, "bob opens the demo", chromedp.EmulateViewport(w, h), chromedp.Navigate(e.ts.URL+"/c/"+demo.canvas))
		waitLive(t, b, "bob")
		c := e.tab(e.ts.URL+"/c/"+demo.canvas+"#token="+carol.Token, w, h)
		waitLive(t, c, "carol")
		for _, ctx := range []context.Context{a, b, c} {
			waitJS(t, ctx, "widgets drawn", `document.querySelectorAll('.w-image.loaded').length === 3 && !!document.querySelector('.w-table td')`, 10*time.Second)
		}
		// Bob selects the chart and rests his cursor on it; Carol points at the table.
		bx, by := worldToScreen(t, b, demo.chartAt[0], demo.chartAt[1])
		run(t, b, "bob selects the chart", chromedp.MouseClickXY(bx, by))
		bx, by = worldToScreen(t, b, demo.chartAt[0]+120, demo.chartAt[1]+70)
		moveMouse(t, b, bx, by)
		cx, cy := worldToScreen(t, c, demo.tableAt[0], demo.tableAt[1])
		moveMouse(t, c, cx, cy)
		// Alice selects the photo: its toolbar offers re-crop, uncrop and digitize.
		px, py := worldToScreen(t, a, demo.photoAt[0], demo.photoAt[1])
		run(t, a, "alice selects the photo", chromedp.MouseClickXY(px, py))
		moveMouse(t, a, px, py-400)
		waitJS(t, a, "alice sees both cursors and bob's selection",
			`!!document.querySelector('.cursor[data-name="Bob Chen"]') && !!document.querySelector('.cursor[data-name="Carol Diaz"]') && !!document.querySelector('.remote-sel') && !document.querySelector('.floatbar').hidden`, liveDeadline)
		run(t, a, "settle", chromedp.Sleep(300*time.Millisecond)) // cursor transitions are 60 ms
		p := screenshot(t, a, "two-viewers")
		if *update {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", "two-viewers.png"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
}

var update = flag.Bool("update", false, "copy the README screenshot to docs/screenshots")

// worldToScreen maps a canvas point to viewport coordinates in a page.
func worldToScreen(t testing.TB, ctx context.Context, x, y float64) (float64, float64) {
	t.Helper()
	p := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => { const v = window.__canvasd.view; const r = v.viewport.getBoundingClientRect(); return [r.left + v.view.x + %v * v.view.z, r.top + v.view.y + %v * v.view.z]; })()`, x, y))
	return p[0], p[1]
}

type demo struct {
	canvas                    string
	chartAt, tableAt, photoAt [2]float64 // world points on each
}

// demoCanvas fills a canvas the way a team would: an anchored review area
// with a chart, a scanned table digitized into a Table widget, and notes,
// and a photo beside it.
func (e *env) demoCanvas(owner person, share map[uint64]string) demo {
	e.t.Helper()
	cid := e.newCanvas(owner, "Q3 planning", share)
	base := "/api/v1/canvases/" + cid
	e.mustAPI(owner.Token, "POST", base+"/anchors", map[string]any{"anchor_name": "Q3 revenue review",
		"location": map[string]any{"x": -30, "y": -20}, "size": map[string]any{"width": 1010, "height": 600}}, nil)
	e.uploadImage(owner.Token, cid, "revenue-chart.png", chartPNG(900, 600), map[string]any{"title": "Revenue chart, p. 4",
		"location": map[string]any{"x": 0, "y": 20}, "size": map[string]any{"width": 450, "height": 300}})
	e.uploadImage(owner.Token, cid, "offsite-venue.png", photoPNG(800, 500), map[string]any{"title": "Offsite venue",
		"location": map[string]any{"x": -520, "y": 20}, "size": map[string]any{"width": 420, "height": 262.5}})
	note := func(text, color string, x, y, w, h float64) map[string]any {
		var n map[string]any
		e.mustAPI(owner.Token, "POST", base+"/notes", map[string]any{"text": text, "background_color": color,
			"location": map[string]any{"x": x, "y": y}, "size": map[string]any{"width": w, "height": h}}, &n)
		return n
	}
	note("EMEA is up 18% on Q2. The chart and the table agree now.", "#fff1a8", 490, 20, 230, 170)
	n1 := note("Re-cropped p. 4: the old crop cut off the Q3 column.", "#ffd3de", 740, 20, 210, 170)
	note("Offsite in Lisbon, Oct 14 to 16. Book rooms by Friday.", "#cfe8ff", -520, 312, 250, 160)
	note("Bring the printed deck", "#c9f2dc", -250, 312, 150, 160)

	// A scanned table, digitized by the server into a Table widget beside it.
	rows := [][]string{
		{"Region", "Q1", "Q2", "Q3"},
		{"EMEA", "4.2", "4.6", "5.4"},
		{"Americas", "6.8", "7.1", "7.3"},
		{"APAC", "2.9", "3.3", "3.8"},
		{"Total", "13.9", "15.0", "16.5"},
	}
	scan := e.uploadImage(owner.Token, cid, "revenue-table-p4.png", ruledTablePNG(e.t, rows), map[string]any{"title": "Revenue by region, p. 4",
		"location": map[string]any{"x": 0, "y": 360}, "size": map[string]any{"width": 400, "height": 400}})
	scanID := scan["id"].(string)
	tableID := e.digitize(owner, cid, scanID)
	e.mustAPI(owner.Token, "POST", base+"/connectors", map[string]any{
		"src":        map[string]any{"id": n1["id"], "rel_location": map[string]any{"x": 0.5, "y": 1}, "tip": "none"},
		"dst":        map[string]any{"id": tableID, "rel_location": map[string]any{"x": 0.8, "y": 0}, "tip": "solid-equilateral-triangle"},
		"line_color": "#8b93a7", "line_width": 4, "type": "curve"}, nil)
	tw := e.widgets(owner.Token, cid)[tableID]
	tx, ty := loc(tw)
	tsize := tw["size"].(map[string]any)
	tableAt := [2]float64{tx + tsize["width"].(float64)*0.88, ty + tsize["height"].(float64)*0.8}
	return demo{canvas: cid, chartAt: [2]float64{225, 170}, tableAt: tableAt, photoAt: [2]float64{-310, 150}}
}

// digitize reads one image element as a table through the batch-digitize
// SSE route and returns the Table widget it made. Without the route (before
// it landed) the same table is written through the store.
func (e *env) digitize(owner person, cid, wid string) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"elements": []map[string]any{{"element_id": wid, "element_type": "table",
		"image_url": e.ts.URL + "/api/v1/canvases/" + cid + "/images/" + wid + "/download"}}})
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/canvas/"+cid+"/images/batch-digitize", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+owner.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	stream, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("batch-digitize: %d %s", res.StatusCode, stream)
	}
	if !bytes.Contains(stream, []byte("element.completed")) {
		e.t.Fatalf("batch-digitize did not complete the element:\n%s", stream)
	}
	for id, w := range e.widgets(owner.Token, cid) {
		if w["widget_type"] == "Table" && w["source_element_id"] == wid {
			return id
		}
	}
	for id, w := range e.widgets(owner.Token, cid) {
		if w["widget_type"] == "Table" {
			return id
		}
	}
	e.t.Fatalf("no Table widget after digitize:\n%s", stream)
	return ""
}

// ruledTablePNG renders a table as a page scan would show it: ruled cells,
// Go Regular text, a bold header row.
func ruledTablePNG(t testing.TB, rows [][]string) []byte {
	t.Helper()
	face := func(ttf []byte, size float64) font.Face {
		f, err := opentype.Parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	regular, bold := face(goregular.TTF, 24), face(gobold.TTF, 24)
	const cw, ch, pad = 170, 48, 16
	nc := len(rows[0])
	img := image.NewNRGBA(image.Rect(0, 0, cw*nc+2*pad, ch*len(rows)+2*pad))
	fill(img, img.Bounds(), color.NRGBA{255, 255, 255, 255})
	ink := color.NRGBA{34, 34, 34, 255}
	fill(img, image.Rect(pad, pad, pad+cw*nc, pad+ch), color.NRGBA{232, 234, 240, 255})
	for i := 0; i <= len(rows); i++ {
		fill(img, image.Rect(pad, pad+i*ch, pad+cw*nc+2, pad+i*ch+2), ink)
	}
	for j := 0; j <= nc; j++ {
		fill(img, image.Rect(pad+j*cw, pad, pad+j*cw+2, pad+ch*len(rows)+2), ink)
	}
	for r, row := range rows {
		fc := regular
		if r == 0 {
			fc = bold
		}
		d := &font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: fc}
		for c, text := range row {
			x := pad + c*cw + 14
			if c > 0 { // numbers right-aligned
				x = pad + (c+1)*cw - 14 - d.MeasureString(text).Round()
			}
			d.Dot = fixed.P(x, pad+r*ch+33)
			d.DrawString(text)
		}
	}
	return encode(img)
}

// browserWidgets is a page's widget state (without the root), keyed by id.
func browserWidgets(t testing.TB, ctx context.Context) map[string]map[string]any {
	list := evalJS[[]map[string]any](t, ctx, `window.__canvasd.state().widgets`)
	out := map[string]map[string]any{}
	for _, w := range list {
		out[w["id"].(string)] = w
	}
	return out
}

// canonical renders the fields a viewer shows, in a stable order.
func canonical(t testing.TB, ws map[string]map[string]any) string {
	var lines []string
	for id, w := range ws {
		if w["widget_type"] == "SharedCanvas" {
			continue
		}
		pick := map[string]any{}
		for _, k := range []string{"widget_type", "location", "size", "text", "background_color", "hash", "version", "depth"} {
			if v, ok := w[k]; ok {
				pick[k] = v
			}
		}
		b, _ := json.Marshal(pick)
		lines = append(lines, id+" "+string(b))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
