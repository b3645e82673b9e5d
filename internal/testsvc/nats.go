package testsvc

import (
	"fmt"
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// NATS is an in-process NATS server (the nats-server Go module, core NATS
// only) on a loopback port. Clients reach it over real TCP, so a broker
// connected to URL behaves as against a separate server; Shutdown and
// Restart play an outage.
type NATS struct {
	URL  string // nats://127.0.0.1:PORT
	Port int

	srv *natsserver.Server
}

// StartNATS starts a NATS server on a free loopback port; it is shut down
// when the test ends.
func StartNATS(tb testing.TB) *NATS {
	tb.Helper()
	n := &NATS{}
	if err := n.start(-1); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Shutdown)
	return n
}

func (n *NATS) start(port int) error {
	srv, err := natsserver.NewServer(&natsserver.Options{
		Host:   "127.0.0.1",
		Port:   port, // -1: a random free port
		NoLog:  true,
		NoSigs: true,
	})
	if err != nil {
		return fmt.Errorf("nats: new server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("nats: server on port %d not ready within 10 s", port)
	}
	addr, ok := srv.Addr().(*net.TCPAddr)
	if !ok {
		srv.Shutdown()
		return fmt.Errorf("nats: unexpected listener address %v", srv.Addr())
	}
	n.srv = srv
	n.Port = addr.Port
	n.URL = fmt.Sprintf("nats://127.0.0.1:%d", addr.Port)
	return nil
}

// Shutdown stops the server; connected clients see it go away. It is
// idempotent.
func (n *NATS) Shutdown() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
}

// Restart starts a new server on the same port after Shutdown, so that
// clients reconnect to URL.
func (n *NATS) Restart(tb testing.TB) {
	tb.Helper()
	n.Shutdown()
	var err error
	for i := 0; i < 50; i++ { // the old listener may linger a moment
		if err = n.start(n.Port); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("nats: restart on port %d: %v", n.Port, err)
}
