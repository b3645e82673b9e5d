package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/imaging"
	"github.com/canvasd/canvasd/store"
)

// canvasdProc is the real canvasd binary serving a data directory.
type canvasdProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string
	log  *os.File
	done chan error
}

func buildCanvasd(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "canvasd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/canvasd")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startCanvasd(t testing.TB, bin, addr, data, token string) *canvasdProc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(data, "..", filepath.Base(data)+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data, "--log-format", "json")
	cmd.Env = append(os.Environ(), "CANVASD_BOOTSTRAP_TOKEN="+token, "CANVASD_JOB_WORKERS=2")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &canvasdProc{t: t, cmd: cmd, base: "http://" + addr, log: logf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("canvasd exited at start: %v (log %s)", err, logf.Name())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("canvasd did not become healthy (log %s)", logf.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *canvasdProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.done
}

func (p *canvasdProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("canvasd exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		p.t.Fatal("canvasd did not stop within 30 s of SIGTERM")
	}
}

// diskJobs reads every job from a stopped server's data directory.
func diskJobs(t testing.TB, data string) (map[string]*store.Job, *store.Store) {
	t.Helper()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]*store.Job{}
	st.View(func(tx *store.Tx) error {
		js, _, err := tx.JobPage(store.JobFilter{}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			jobs[j.ID] = j
		}
		return nil
	})
	return jobs, st
}

// TestBannerJobsSurviveKillExactlyOnce builds canvasd, queues banner jobs
// that place their outputs on a canvas, SIGKILLs the server while jobs are
// processing, restarts it, and checks that every job completed exactly once:
// one completion each, exactly its outputs, and exactly one widget per output.
func TestBannerJobsSurviveKillExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	t.Parallel()
	bin := buildCanvasd(t)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	addr := freeAddr(t)
	const token = "restart-test-admin-token"
	p := startCanvasd(t, bin, addr, data, token)
	jc := &jobClient{t: t, base: p.base, token: token}

	// A canvas for the outputs (through the Canvus API).
	req, _ := http.NewRequest("POST", p.base+"/api/v1/canvases", strings.NewReader(`{"name":"restart"}`))
	req.Header.Set("Private-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cv map[string]any
	json.NewDecoder(resp.Body).Decode(&cv)
	resp.Body.Close()
	canvasID, _ := cv["id"].(string)
	if canvasID == "" {
		t.Fatalf("create canvas: %v", cv)
	}

	sc := genScene(t, 1600, 1200, image.Rect(600, 260, 1000, 1000), 0, 81)
	var in bytes.Buffer
	if err := imaging.EncodeJPEG(&in, sc.img, 90); err != nil {
		t.Fatal(err)
	}
	maskPNG := pngOf(t, sc.mask)
	const n = 10
	var ids []string
	for i := range n {
		// Distinct sizes per job, so that no two jobs share an output blob.
		dims := fmt.Sprintf("%dx418,%dx500,300x%d", 800+i, 500+i, 600+i)
		body, ct := multipartOf(t, part{"input_files", "in.jpg", in.Bytes()}, part{"mask_files", "m.png", maskPNG},
			part{"output_dimensions", "", []byte(dims)}, part{"job_labels", "", []byte("restart")},
			part{"canvas_id", "", []byte(canvasID)})
		code, b, _ := jc.do("POST", "/v1/banners/with-mask", body, ct)
		if code != http.StatusOK {
			t.Fatalf("submit %d: %d %s", i, code, b)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		ids = append(ids, m["job_id"].(string))
	}

	// Kill while a job is processing (seen on disk afterwards); if the kill
	// happened to land between jobs, run again and kill again.
	interrupted, doneBefore := map[string]bool{}, map[string]bool{}
	for round := 0; len(interrupted) == 0; round++ {
		if round == 4 {
			t.Fatal("never caught a job processing at the kill")
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, s := jc.status(map[string]any{"job_labels": []string{"restart"}, "limit": 100})
			processing, pending, completed := 0, 0, 0
			for _, j := range s.Jobs {
				switch j.Status {
				case store.JobProcessing:
					processing++
				case store.JobPending:
					pending++
				case store.JobCompleted:
					completed++
				}
			}
			// Mid-queue: some done, some running, some waiting.
			if processing > 0 && (completed > 0 || round > 0) {
				break
			}
			if pending == 0 || time.Now().After(deadline) {
				t.Fatalf("round %d: no job left to interrupt: %+v", round, s.Jobs)
			}
			time.Sleep(5 * time.Millisecond)
		}
		p.kill()
		jobs, st := diskJobs(t, data)
		counts := map[string]int{}
		for _, j := range jobs {
			counts[j.Status]++
			switch j.Status {
			case store.JobProcessing:
				interrupted[j.ID] = true
			case store.JobCompleted:
				doneBefore[j.ID] = true
			}
		}
		st.Close()
		t.Logf("round %d: killed with %v", round, counts)
		p = startCanvasd(t, bin, addr, data, token)
	}

	for _, id := range ids {
		if s := jc.wait(id); s.Jobs[0].Status != store.JobCompleted {
			t.Fatalf("job %s: %s %s", id, s.Jobs[0].Status, s.ErrorMessage)
		}
	}
	p.stop()

	jobs, st := diskJobs(t, data)
	defer st.Close()
	if len(jobs) != n {
		t.Fatalf("%d jobs on disk, want %d", len(jobs), n)
	}
	outputWidgets := map[string]bool{}
	st.View(func(tx *store.Tx) error {
		for _, id := range ids {
			j := jobs[id]
			if j.Status != store.JobCompleted || j.Completions != 1 {
				t.Errorf("job %s: status %s, completions %d; want completed exactly once", id, j.Status, j.Completions)
			}
			if interrupted[id] && j.Attempts < 2 {
				t.Errorf("job %s was processing at the kill but ran %d time(s)", id, j.Attempts)
			}
			if doneBefore[id] && j.Attempts != 1 {
				t.Errorf("job %s was completed before the kill but was taken %d times", id, j.Attempts)
			}
			if len(j.Outputs) != 3 {
				t.Errorf("job %s: %d outputs, want 3", id, len(j.Outputs))
			}
			for _, o := range j.Outputs {
				if tx.BlobRefs(o.Blob) < 1 {
					t.Errorf("job %s: output %s unreferenced", id, o.Blob)
				}
				if _, err := os.Stat(st.BlobPath(o.Blob)); err != nil {
					t.Errorf("job %s: output file: %v", id, err)
				}
				if outputWidgets[o.WidgetID] || o.WidgetID == "" {
					t.Errorf("job %s: widget id %q missing or repeated", id, o.WidgetID)
				}
				outputWidgets[o.WidgetID] = true
			}
		}
		ws, err := tx.Widgets(canvasID)
		if err != nil {
			t.Fatal(err)
		}
		images := 0
		for _, w := range ws {
			if w.Type != "Image" {
				continue
			}
			images++
			if !outputWidgets[w.ID] {
				t.Errorf("image widget %s belongs to no committed output (a lost attempt placed it)", w.ID)
			}
		}
		if images != 3*n {
			t.Errorf("%d image widgets on the canvas, want %d", images, 3*n)
		}
		return nil
	})
	t.Logf("%d jobs interrupted by the kill, %d completed before it; all completed once", len(interrupted), len(doneBefore))
	if t.Failed() {
		if b, err := os.ReadFile(p.log.Name()); err == nil {
			t.Logf("server log tail:\n%s", tail(b, 3000))
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
