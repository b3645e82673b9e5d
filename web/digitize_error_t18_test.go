package web_test

// Issue 18, "Client defects the tests missed": a failed digitize element
// showed "[object Object]" (the server sends {"code", "message"}). A blank
// image read as a chart has no axes nor series: its element fails, and the
// panel must show the server's message.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestDigitizeFailureShowsMessage(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("Alice Martin", false)
	cid := e.newCanvas(alice, "digitize failure", nil)
	img := image.NewGray(image.Rect(0, 0, 320, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(10, 10, color.Gray{Y: 0})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	w := e.uploadImage(alice.Token, cid, "blank.png", buf.Bytes(), map[string]any{"title": "Blank", "location": map[string]any{"x": 0, "y": 0}})
	id := w["id"].(string)
	a := e.tab(e.ts.URL+"/c/"+cid+"#token="+alice.Token, 1440, 900)
	waitJS(t, a, "the image is shown", fmt.Sprintf(`!!document.querySelector('.w-image.loaded[data-id=%q]')`, id), liveDeadline)
	run(t, a, "fit", chromedp.Evaluate[chromedp.Void](`window.__canvasd.view.fit()`))
	x, y := at(t, a, fmt.Sprintf(`.w-image[data-id=%q]`, id), 0.5, 0.5)
	run(t, a, "select the image", chromedp.MouseClickXY(x, y))
	run(t, a, "digitize", chromedp.WaitVisible(chromedp.CSS("#fb-digitize")), chromedp.Click(chromedp.CSS("#fb-digitize")),
		chromedp.WaitVisible(chromedp.CSS("#digitize-start")), chromedp.SetValue(chromedp.CSS("#digitize-type"), "chart"),
		chromedp.Click(chromedp.CSS("#digitize-start")))
	waitJS(t, a, "digitize finishes", `(() => { const p = document.querySelector('#digitize-panel'); return !!p && p.classList.contains('finished'); })()`, 2*time.Minute)
	job := fmt.Sprintf(`document.querySelector('#digitize-panel .job[data-id=%q]')`, id)
	state := evalJS[string](t, a, job+`?.dataset.state || ''`)
	text := evalJS[string](t, a, job+`?.querySelector('.job-state')?.textContent || ''`)
	if state != "failed" {
		t.Fatalf("a blank image's digitize element is %q (%q), want failed", state, text)
	}
	if strings.Contains(text, "[object") || text == "" || text == "Failed" {
		t.Fatalf("the failed element shows %q, not the server's message", text)
	}
	t.Logf("the failed element shows %q", text)
}
