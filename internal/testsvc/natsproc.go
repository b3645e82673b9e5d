package testsvc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NATSProcess is a nats-server running as a child process, built from the
// module this repository requires, so that a test can kill -9 it or freeze
// it (SIGSTOP) as an operator's outage would, which an in-process server
// cannot play.
type NATSProcess struct {
	URL  string
	Port int

	bin string
	dir string // holds the log
	cmd *exec.Cmd
}

// NATSServerBinary builds the nats-server of go.mod (once per version and
// platform; later calls reuse the binary in the user cache directory) and
// returns its path.
func NATSServerBinary(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2").Output()
	if err != nil {
		tb.Fatalf("nats-server: go list -m: %v (run the tests inside the canvasd module)", err)
	}
	version := strings.TrimSpace(string(out))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "canvasd-testsvc", fmt.Sprintf("nats-server-%s-%s-%s", version, runtime.GOOS, runtime.GOARCH))
	if isExec(bin) {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		tb.Fatal(err)
	}
	// Build beside the target and rename, so concurrent test binaries never
	// run a half-written file.
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	if out, err := exec.Command("go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		os.Remove(tmp)
		tb.Fatalf("nats-server: go build: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		tb.Fatal(err)
	}
	return bin
}

// StartNATSProcess starts nats-server as a child on a free loopback port;
// it is killed when the test ends.
func StartNATSProcess(tb testing.TB) *NATSProcess {
	tb.Helper()
	n := &NATSProcess{bin: NATSServerBinary(tb), dir: tb.TempDir()}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if n.Port, err = freePort(); err != nil {
			tb.Fatal(err)
		}
		if err = n.start(); err == nil {
			tb.Cleanup(n.Kill)
			return n
		}
	}
	tb.Fatal(err)
	return nil
}

func (n *NATSProcess) start() error {
	logPath := filepath.Join(n.dir, "nats-server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(n.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(n.Port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("nats-server: start: %w", err)
	}
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := dialTimeout(fmt.Sprintf("127.0.0.1:%d", n.Port))
		if err == nil {
			c.Close()
			n.cmd = cmd
			n.URL = fmt.Sprintf("nats://127.0.0.1:%d", n.Port)
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("nats-server exited at start: %s", readLog())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return fmt.Errorf("nats-server on port %d not listening within 20 s: %s", n.Port, readLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to go (kill -9). It is
// idempotent.
func (n *NATSProcess) Kill() {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies only once continued
	n.cmd.Process.Kill()
	for i := 0; i < 500 && n.cmd.Process.Signal(syscall.Signal(0)) == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	n.cmd = nil
}

// Freeze stops the process (SIGSTOP): connections stay open but nothing
// moves, as in a long GC pause or a hung host. Thaw continues it.
//
// SIGSTOP is asynchronous: the group stop completes only when each thread
// next runs, which on a loaded machine can be after a request was served.
// Freeze returns once every thread of the process reports state T
// (/proc/<pid>/task/*/stat), or after 10 s.
func (n *NATSProcess) Freeze() {
	n.cmd.Process.Signal(syscall.SIGSTOP)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !allThreadsStopped(n.cmd.Process.Pid) {
		time.Sleep(5 * time.Millisecond)
	}
}

// allThreadsStopped reports whether every thread of pid is stopped (T or t).
func allThreadsStopped(pid int) bool {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the ")" that ends the command name.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Thaw continues a frozen process (SIGCONT).
func (n *NATSProcess) Thaw() { n.cmd.Process.Signal(syscall.SIGCONT) }

// Restart kills the process if it runs and starts a new one on the same
// port.
func (n *NATSProcess) Restart(tb testing.TB) {
	tb.Helper()
	n.Kill()
	var err error
	for i := 0; i < 50; i++ {
		if err = n.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("nats-server: restart on port %d: %v", n.Port, err)
}
