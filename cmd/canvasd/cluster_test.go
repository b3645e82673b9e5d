package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canvasd/canvasd/hub"
	"github.com/canvasd/canvasd/hub/natsbroker"
	"github.com/canvasd/canvasd/internal/testsvc"
	"github.com/johannesboyne/gofakes3"
	"github.com/rs/zerolog"
)

// TestClusterFlagsRefuseNonsense: a NATS broker is refused (flag and env)
// while no store can be shared between nodes, and unknown schemes are
// refused with what is accepted.
func TestClusterFlagsRefuseNonsense(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{args: []string{"--broker", "nats://127.0.0.1:4222"}, want: "store that every node shares"},
		{env: "nats://10.0.0.5:4222", want: "store that every node shares"},
		{args: []string{"--broker", "redis://x"}, want: "--broker must be memory or nats://"},
		{args: []string{"--blobs", "gs://bucket"}, want: "--blobs must be file://DIR or s3://"},
		{args: []string{"--blobs", "s3://"}, want: "--blobs must look like s3://bucket"},
		{args: []string{"--blobs", "file://"}, want: "needs a directory"},
	} {
		t.Setenv("CANVASD_BROKER", tc.env)
		if tc.env == "" {
			os.Unsetenv("CANVASD_BROKER")
		}
		_, err := serveFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serveFlags(%q, CANVASD_BROKER=%q) = %v, want an error with %q", tc.args, tc.env, err, tc.want)
		}
	}
	os.Unsetenv("CANVASD_BROKER")
	c, err := serveFlags(nil)
	if err != nil || c.broker != "memory" || c.blobs != "" || c.headCheck != time.Second {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

// TestClusterServeWithS3Blobs runs the real serve with --blobs s3://… on an
// S3 fake: an uploaded image lands in the bucket (nothing under
// --data/blobs) and downloads back byte for byte.
func TestClusterServeWithS3Blobs(t *testing.T) {
	clearEnv(t)
	guard := make(chan os.Signal, 16)
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)

	fake := testsvc.StartS3(t, "blobs")
	dir := t.TempDir()
	t.Setenv("CANVASD_BOOTSTRAP_TOKEN", "cluster-bootstrap-token-1")
	t.Setenv("CANVASD_BLOBS", fake.URL("blobs", "c1/"))
	out, stopServe := serveInBackground(t, []string{"--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json"})
	stopped := false
	stop := func() error { stopped = true; return stopServe() }
	defer func() {
		if !stopped {
			stop()
		}
	}()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if m := signInRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no sign-in link printed: %q", out.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	do := func(method, path, ctype string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Private-Token", "cluster-bootstrap-token-1")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := do("POST", "/api/v1/canvases", "application/json", []byte(`{"name":"s3"}`))
	var cv struct{ ID string }
	if code != 200 || json.Unmarshal(body, &cv) != nil || cv.ID == "" {
		t.Fatalf("create canvas: %d %s", code, body)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(1, 1, color.NRGBA{1, 2, 3, 255})
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, img)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("data", "a.png")
	fw.Write(pngBuf.Bytes())
	mw.Close()
	code, body = do("POST", "/api/v1/canvases/"+cv.ID+"/images", mw.FormDataContentType(), form.Bytes())
	var w struct{ ID string }
	if code != 200 || json.Unmarshal(body, &w) != nil || w.ID == "" {
		t.Fatalf("upload: %d %s", code, body)
	}
	code, got := do("GET", "/api/v1/canvases/"+cv.ID+"/images/"+w.ID+"/download", "", nil)
	if code != 200 || !bytes.Equal(got, pngBuf.Bytes()) {
		t.Fatalf("download: %d, %d bytes, want the %d uploaded", code, len(got), pngBuf.Len())
	}
	list, err := fake.Backend.ListBucket("blobs", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	if len(keys) == 0 || !strings.HasPrefix(keys[0], "c1/") {
		t.Fatalf("bucket keys %q, want the image under c1/", keys)
	}
	local, _ := filepath.Glob(filepath.Join(dir, "blobs", "??", "*"))
	if len(local) != 0 {
		t.Fatalf("blobs on local disk with --blobs s3: %q", local)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestClusterBrokerOptionsWireNATS: the hub options --broker nats://…
// builds (used once a shared store lifts the refusal) carry a connected
// NATS broker and the head check.
func TestClusterBrokerOptionsWireNATS(t *testing.T) {
	srv := testsvc.StartNATS(t)
	c := &serveConfig{broker: srv.URL, headCheck: 250 * time.Millisecond}
	var h1, h2 *hub.Hub
	opts1, close1, err := brokerOptions(c, zerolog.Nop(), &h1)
	if err != nil {
		t.Fatal(err)
	}
	defer close1()
	opts2, close2, err := brokerOptions(c, zerolog.Nop(), &h2)
	if err != nil {
		t.Fatal(err)
	}
	defer close2()
	var o1, o2 hub.Options
	for _, f := range opts1 {
		f(&o1)
	}
	for _, f := range opts2 {
		f(&o2)
	}
	if _, ok := o1.Broker.(*natsbroker.Broker); !ok || o1.HeadCheck != 250*time.Millisecond {
		t.Fatalf("hub options %+v", o1)
	}
	got := make(chan hub.Message, 1)
	cancel, _ := o2.Broker.Subscribe(func(m hub.Message) { got <- m })
	defer cancel()
	if err := o2.Broker.(hub.TopicBroker).Join("c"); err != nil {
		t.Fatal(err)
	}
	if err := o1.Broker.Publish(hub.Message{Canvas: "c", Seq: 9, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	select {
	case m := <-got:
		if m.Canvas != "c" || m.Seq != 9 || string(m.Data) != "x" {
			t.Fatalf("node 2 got %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("node 2 got nothing")
	}
	if _, _, err := brokerOptions(&serveConfig{broker: "nats://127.0.0.1:1"}, zerolog.Nop(), &h1); err == nil {
		t.Fatal("an unreachable NATS was accepted")
	}
}
