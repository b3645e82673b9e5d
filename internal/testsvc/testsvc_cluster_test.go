package testsvc

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPostgresStartsAndServesSQL starts a real server from the Debian
// binaries and runs SQL against it over TCP with psql; a restart keeps the
// data (the cluster test restarts PostgreSQL mid-load).
func TestPostgresStartsAndServesSQL(t *testing.T) {
	pg := StartPostgres(t)
	if !strings.HasPrefix(pg.DSN, "postgres://postgres@127.0.0.1:") {
		t.Fatalf("DSN %q", pg.DSN)
	}
	if _, err := pg.Psql("CREATE TABLE t(k int primary key, v text); INSERT INTO t VALUES (1, 'one'), (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	pg.Restart(t)
	got, err := pg.Psql("SELECT string_agg(v, ',' ORDER BY k) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if got != "one,two" {
		t.Fatalf("after restart: got %q, want one,two", got)
	}
	if got, err := pg.Psql("SHOW port"); err != nil || got != fmt.Sprint(pg.Port) {
		t.Fatalf("SHOW port = %q, %v; want %d", got, err, pg.Port)
	}
}

// TestTwoPostgresServersAreIndependent: each test gets its own server.
func TestTwoPostgresServersAreIndependent(t *testing.T) {
	a, b := StartPostgres(t), StartPostgres(t)
	if a.Port == b.Port {
		t.Fatalf("both servers on port %d", a.Port)
	}
	if _, err := a.Psql("CREATE TABLE only_a(x int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Psql("SELECT 1 FROM only_a"); err == nil {
		t.Fatal("server b sees server a's table")
	}
}

// TestNATSServesAndRestarts speaks the NATS protocol to the embedded server
// over TCP: a message published on one connection reaches a subscriber on
// another, also after a restart on the same port.
func TestNATSServesAndRestarts(t *testing.T) {
	n := StartNATS(t)
	roundTripRaw(t, n.Port, "hello")
	n.Restart(t)
	roundTripRaw(t, n.Port, "again")
}

type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func natsConn(t *testing.T, port int) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second)) // turns a hang into a failure
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	rc.expect("INFO ")
	fmt.Fprintf(rc.w, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
	return rc
}

// expect reads lines, skipping PINGs (answered) and PONGs not asked for by
// prefix, until one starts with prefix.
func (rc *rawConn) expect(prefix string) {
	rc.t.Helper()
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, prefix) {
			return
		}
		if line == "PING" {
			fmt.Fprintf(rc.w, "PONG\r\n")
			rc.w.Flush()
			continue
		}
		if strings.HasPrefix(line, "-ERR") {
			rc.t.Fatalf("waiting for %q: %s", prefix, line)
		}
	}
}

// TestNATSProcessKillFreezeRestart drives a nats-server child through the
// cluster test's faults: frozen (a PING goes unanswered until it thaws),
// killed -9 (the port refuses), restarted on the same port (messages flow).
func TestNATSProcessKillFreezeRestart(t *testing.T) {
	n := StartNATSProcess(t)
	roundTripRaw(t, n.Port, "one")

	c := natsConn(t, n.Port)
	n.Freeze()
	fmt.Fprintf(c.w, "PING\r\n")
	c.w.Flush()
	c.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("a frozen server answered %q", line)
	}
	c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n.Thaw()
	c.expect("PONG")

	n.Kill()
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.Port), time.Second); err == nil {
		conn.Close()
		t.Fatal("the killed server's port still accepts connections")
	}
	n.Restart(t)
	roundTripRaw(t, n.Port, "two")
}

// roundTripRaw publishes payload on one connection and expects it on
// another.
func roundTripRaw(t *testing.T, port int, payload string) {
	t.Helper()
	sub := natsConn(t, port)
	fmt.Fprintf(sub.w, "SUB cvd.test 1\r\nPING\r\n")
	sub.w.Flush()
	sub.expect("PONG")
	pub := natsConn(t, port)
	fmt.Fprintf(pub.w, "PUB cvd.test %d\r\n%s\r\nPING\r\n", len(payload), payload)
	pub.w.Flush()
	pub.expect("PONG")
	sub.expect("MSG cvd.test 1 " + fmt.Sprint(len(payload)))
	sub.expect(payload)
}
