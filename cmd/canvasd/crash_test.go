package main

// Crash safety of the real binary: 4 clients create canvases and notes,
// upload images and PATCH notes while the server is killed with SIGKILL at
// random moments 20 times. Every acknowledged write must survive, every
// canvas's seq must be gapless, every referenced blob must exist and no
// unreferenced blob file may outlive a start-up.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/store"
)

const crashToken = "crash-test-admin-token-0123456789"

// crashServer is one run of the binary.
type crashServer struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startCrashServer(t *testing.T, bin, addr, dir string) *crashServer {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dir, "--log-format", "json", "--job-workers", "1")
	cmd.Env = append(os.Environ(), "CANVASD_BOOTSTRAP_TOKEN="+crashToken)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	cs := &crashServer{cmd: cmd, logs: logs}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cs
			}
		}
		if time.Now().After(deadline) {
			cs.cmd.Process.Kill()
			cs.cmd.Wait()
			t.Fatalf("server not ready after 30 s; log:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (cs *crashServer) kill(t *testing.T) {
	t.Helper()
	cs.cmd.Process.Signal(syscall.SIGKILL)
	cs.cmd.Wait()
}

func (cs *crashServer) stop(t *testing.T) {
	t.Helper()
	cs.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cs.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cs.cmd.Process.Kill()
		<-done
		t.Errorf("server did not stop on SIGTERM within 20 s")
	}
}

// ackedNote is a note whose creation was acknowledged, with every text value
// ever sent for it (in order) and the index of the last acknowledged one.
type ackedNote struct {
	canvas  string
	sent    []string
	lastAck int
}

type ackedImage struct {
	canvas string
	data   []byte
}

// crashLedger is what the clients were told was stored.
type crashLedger struct {
	mu       sync.Mutex
	canvases []string
	notes    map[string]*ackedNote
	images   map[string]*ackedImage
	acks     int
	cut      int // requests the kill left unanswered
}

func (l *crashLedger) randomCanvas(rng *rand.Rand) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.canvases[rng.Intn(len(l.canvases))]
}

// crashClient runs random writes until ctx ends. Each client PATCHes only the
// notes it created, one request at a time, so their order is known.
func crashClient(ctx context.Context, base string, id int, rng *rand.Rand, l *crashLedger, mine *[]string, seq *int) {
	hc := &http.Client{Timeout: 3 * time.Second}
	do := func(method, path, ctype string, body []byte) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Private-Token", crashToken)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				l.mu.Lock()
				l.cut++
				l.mu.Unlock()
			}
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, err // a body cut short is not an acknowledgement
		}
		return resp.StatusCode, b, nil
	}
	for ctx.Err() == nil {
		*seq++
		n := *seq
		switch r := rng.Intn(10); {
		case r == 0: // canvas
			code, b, err := do("POST", "/api/v1/canvases", "application/json", fmt.Appendf(nil, `{"name":"c%d-%d"}`, id, n))
			var cv struct{ ID string }
			if err == nil && code == 200 && json.Unmarshal(b, &cv) == nil && cv.ID != "" {
				l.mu.Lock()
				l.canvases = append(l.canvases, cv.ID)
				l.acks++
				l.mu.Unlock()
			}
		case r <= 3: // note
			cvID := l.randomCanvas(rng)
			text := fmt.Sprintf("note c%d-%d", id, n)
			code, b, err := do("POST", "/api/v1/canvases/"+cvID+"/notes", "application/json",
				fmt.Appendf(nil, `{"text":%q,"location":{"x":%d,"y":%d}}`, text, rng.Intn(1000), rng.Intn(1000)))
			var w struct{ ID, Text string }
			if err == nil && code == 200 && json.Unmarshal(b, &w) == nil && w.ID != "" {
				l.mu.Lock()
				l.notes[w.ID] = &ackedNote{canvas: cvID, sent: []string{text}}
				*mine = append(*mine, w.ID)
				l.acks++
				l.mu.Unlock()
			}
		case r <= 5: // image
			cvID := l.randomCanvas(rng)
			data := crashPNG(rng)
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			fw, _ := mw.CreateFormFile("data", fmt.Sprintf("img-%d-%d.png", id, n))
			fw.Write(data)
			mw.Close()
			code, b, err := do("POST", "/api/v1/canvases/"+cvID+"/images", mw.FormDataContentType(), buf.Bytes())
			var w struct{ ID string }
			if err == nil && code == 200 && json.Unmarshal(b, &w) == nil && w.ID != "" {
				l.mu.Lock()
				l.images[w.ID] = &ackedImage{canvas: cvID, data: data}
				l.acks++
				l.mu.Unlock()
			}
		default: // patch one of my notes
			l.mu.Lock()
			if len(*mine) == 0 {
				l.mu.Unlock()
				continue
			}
			wid := (*mine)[rng.Intn(len(*mine))]
			note := l.notes[wid]
			text := fmt.Sprintf("patch c%d-%d", id, n)
			note.sent = append(note.sent, text) // sent, maybe stored, before any answer
			idx := len(note.sent) - 1
			l.mu.Unlock()
			code, b, err := do("PATCH", "/api/v1/canvases/"+note.canvas+"/notes/"+wid, "application/json",
				fmt.Appendf(nil, `{"text":%q}`, text))
			var w struct{ Text string }
			if err == nil && code == 200 && json.Unmarshal(b, &w) == nil && w.Text == text {
				l.mu.Lock()
				if idx > note.lastAck {
					note.lastAck = idx
				}
				l.acks++
				l.mu.Unlock()
			}
		}
	}
}

// crashPNG is a small random PNG (distinct bytes, so a distinct blob).
func crashPNG(rng *rand.Rand) []byte {
	w, h := 8+rng.Intn(24), 8+rng.Intn(24)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(rng.Intn(256)), uint8(x * 9), uint8(y * 9), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestCrashSafetySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary 20 times")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "canvasd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "data")
	addr := freeAddr(t)
	base := "http://" + addr
	rng := rand.New(rand.NewSource(20261123))
	l := &crashLedger{notes: map[string]*ackedNote{}, images: map[string]*ackedImage{}}

	// A first canvas so that notes and images have somewhere to go.
	cs := startCrashServer(t, bin, addr, dir)
	req, _ := http.NewRequest("POST", base+"/api/v1/canvases", strings.NewReader(`{"name":"first"}`))
	req.Header.Set("Private-Token", crashToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var first struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&first)
	resp.Body.Close()
	if first.ID == "" {
		t.Fatalf("create canvas: %d", resp.StatusCode)
	}
	l.canvases = append(l.canvases, first.ID)

	const clients, kills = 4, 20
	mine := make([][]string, clients)
	seqs := make([]int, clients)
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewSource(rng.Int63()))
	}
	for k := 0; k < kills; k++ {
		if k > 0 {
			cs = startCrashServer(t, bin, addr, dir)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); crashClient(ctx, base, i, rngs[i], l, &mine[i], &seqs[i]) }()
		}
		time.Sleep(time.Duration(300+rng.Intn(500)) * time.Millisecond)
		cs.kill(t) // mid-traffic: requests are in flight
		cancel()
		wg.Wait()
	}
	t.Logf("%d acknowledged writes: %d canvases, %d notes, %d images; %d requests cut by a kill",
		l.acks, len(l.canvases), len(l.notes), len(l.images), l.cut)
	if l.cut == 0 {
		t.Fatalf("no request was in flight at any of the %d kills", kills)
	}
	if len(l.notes) < 20 || len(l.images) < 10 {
		t.Fatalf("too little traffic to mean anything: %d notes, %d images", len(l.notes), len(l.images))
	}

	// After the last start-up: every acknowledged write is there.
	cs = startCrashServer(t, bin, addr, dir)
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Private-Token", crashToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, id := range l.canvases {
		if code, b := get("/api/v1/canvases/" + id); code != 200 {
			t.Errorf("acknowledged canvas %s: %d %s", id, code, b)
		}
	}
	for id, n := range l.notes {
		code, b := get("/api/v1/canvases/" + n.canvas + "/notes/" + id)
		var w struct{ Text string }
		if code != 200 || json.Unmarshal(b, &w) != nil {
			t.Errorf("acknowledged note %s: %d %s", id, code, b)
			continue
		}
		ok := false
		for _, v := range n.sent[n.lastAck:] {
			ok = ok || v == w.Text
		}
		if !ok {
			t.Errorf("note %s has text %q; last acknowledged %q (sent %q)", id, w.Text, n.sent[n.lastAck], n.sent)
		}
	}
	for id, im := range l.images {
		code, b := get("/api/v1/canvases/" + im.canvas + "/images/" + id + "/download")
		if code != 200 || !bytes.Equal(b, im.data) {
			t.Errorf("acknowledged image %s: %d, %d bytes (uploaded %d)", id, code, len(b), len(im.data))
		}
	}
	cs.stop(t)

	// The blob files as the last start-up left them, before anything opens
	// the store again (Open collects orphans itself).
	files := map[string]bool{}
	filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files[rel] = true
		}
		return nil
	})
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	referenced := map[string]bool{}
	var canvasIDs []string
	st.View(func(tx *store.Tx) error {
		for _, h := range tx.ReferencedBlobs() {
			rel, _ := filepath.Rel(dir, st.BlobPath(h))
			referenced[rel] = true
		}
		cvs, err := tx.Canvases()
		if err != nil {
			t.Errorf("canvases: %v", err)
		}
		for _, c := range cvs {
			canvasIDs = append(canvasIDs, c.ID)
			ws, err := tx.Widgets(c.ID)
			if err != nil {
				t.Errorf("widgets of %s: %v", c.ID, err)
			}
			for _, w := range ws {
				for _, h := range store.WidgetBlobs(w) {
					if _, err := os.Stat(st.BlobPath(h)); err != nil {
						t.Errorf("widget %s references blob %s: %v", w.ID, h, err)
					}
				}
			}
		}
		return nil
	})
	var orphans, missing []string
	for f := range files {
		if !referenced[f] {
			orphans = append(orphans, f)
		}
	}
	for f := range referenced {
		if !files[f] {
			missing = append(missing, f)
		}
	}
	sort.Strings(orphans)
	if len(orphans) > 0 {
		t.Errorf("%d blob files outlived the start-up unreferenced: %v", len(orphans), orphans)
	}
	if len(missing) > 0 {
		t.Errorf("%d referenced blobs missing: %v", len(missing), missing)
	}
	if len(referenced) < len(l.images) {
		t.Errorf("%d referenced blobs for %d acknowledged images", len(referenced), len(l.images))
	}
	for _, id := range canvasIDs {
		evs, err := st.EventsSince(id, 0)
		if err != nil {
			t.Errorf("events of %s: %v", id, err)
			continue
		}
		head := st.HeadSeq(id)
		if uint64(len(evs)) != head {
			t.Errorf("canvas %s: %d events for head seq %d", id, len(evs), head)
		}
		for i, ev := range evs {
			if ev.Seq != uint64(i+1) {
				t.Errorf("canvas %s: event %d has seq %d (gap)", id, i, ev.Seq)
				break
			}
		}
	}
}
