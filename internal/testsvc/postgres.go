package testsvc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PostgresInstall is the command that installs the binaries Postgres needs.
const PostgresInstall = "apt-get update && apt-get install -y postgresql"

// Postgres is a running throwaway PostgreSQL server.
type Postgres struct {
	// DSN connects as the superuser "postgres" to the database "postgres"
	// over TCP, e.g. postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
	DSN string
	// Host and Port are the TCP address; SocketDir holds the unix socket.
	Host      string
	Port      int
	SocketDir string
	// BinDir is the directory of the binaries used (initdb, pg_ctl, psql).
	BinDir string

	dir  string
	cred *syscall.Credential
}

// PostgresBinDir finds the newest /usr/lib/postgresql/*/bin that holds
// initdb and pg_ctl (or the directory of an initdb on PATH).
func PostgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH; install them with: %s", PostgresInstall)
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// StartPostgres initialises a cluster in a new temporary directory and
// starts it on a free loopback port, with trust authentication for the
// superuser "postgres". PostgreSQL refuses to run as root, so as root the
// server runs as the "postgres" user (which the Debian package creates), or
// else as "nobody". The server is stopped and its directory removed when the
// test ends. Missing binaries fail the test with the install command.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bin, err := PostgresBinDir()
	if err != nil {
		tb.Fatal(err)
	}
	cred, owner, err := postgresCredential()
	if err != nil {
		tb.Fatal(err)
	}
	// Not t.TempDir: its parent directories are private to root, and the
	// server's user must be able to reach its data directory.
	dir, err := os.MkdirTemp("", "canvasd-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatalf("postgres: chown %s to %s: %v", dir, owner, err)
		}
	}
	pg := &Postgres{Host: "127.0.0.1", SocketDir: dir, BinDir: bin, dir: dir, cred: cred}
	data := filepath.Join(dir, "data")
	if out, err := pg.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		tb.Fatalf("postgres: initdb as %s: %v\n%s", owner, err, out)
	}
	// A free port can be taken between probe and start; try a few.
	var lastOut []byte
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		out, err := pg.start(port)
		if err == nil {
			pg.Port = port
			pg.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			tb.Cleanup(pg.stop)
			return pg
		}
		lastOut = append(out, pg.log()...)
		if !bytes.Contains(lastOut, []byte("in use")) {
			break
		}
	}
	tb.Fatalf("postgres: pg_ctl start failed:\n%s", lastOut)
	return nil
}

// postgresCredential returns whom to run the server as: nil (ourselves)
// unless we are root.
func postgresCredential() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "the current user", nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, name, nil
	}
	return nil, "", fmt.Errorf("postgres: running as root and neither a postgres nor a nobody user exists to run the server as; install the package (it creates the user): %s", PostgresInstall)
}

// run runs a PostgreSQL binary as the server's user.
func (pg *Postgres) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = pg.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd.CombinedOutput()
}

func (pg *Postgres) log() []byte {
	b, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
	return b
}

// Psql runs one SQL command through the package's psql client over TCP and
// returns its unaligned, tuples-only output.
func (pg *Postgres) Psql(sql string) (string, error) {
	out, err := pg.run(filepath.Join(pg.BinDir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", "postgres", "-d", "postgres", "-c", sql)
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Restart stops the server (fast shutdown) and starts it again on the same
// port, as a database restart does to the product.
func (pg *Postgres) Restart(tb testing.TB) {
	tb.Helper()
	data := filepath.Join(pg.dir, "data")
	if out, err := pg.run(filepath.Join(pg.BinDir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"); err != nil {
		tb.Fatalf("postgres: stop: %v\n%s", err, out)
	}
	if out, err := pg.start(pg.Port); err != nil {
		tb.Fatalf("postgres: restart: %v\n%s%s", err, out, pg.log())
	}
}

// start starts the initialised cluster on port and waits until it accepts
// connections. Durability is off: a test's database is thrown away.
func (pg *Postgres) start(port int) ([]byte, error) {
	opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100", port, pg.dir)
	return pg.run(filepath.Join(pg.BinDir, "pg_ctl"), "-D", filepath.Join(pg.dir, "data"), "-l", filepath.Join(pg.dir, "log"),
		"-o", opts, "-w", "-t", "60", "start")
}

func (pg *Postgres) stop() {
	pg.run(filepath.Join(pg.BinDir, "pg_ctl"), "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "-w", "stop")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func dialTimeout(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
