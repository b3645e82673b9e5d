package main

import (
	"strings"
	"testing"
)

// The edge's flags: --trusted-proxies is validated at start, and
// --metrics-admin-only needs the admin listener.
func TestSecurityEdgeFlags(t *testing.T) {
	clearEnv(t)
	c, err := serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.trustedProxies != "" || c.maxAnonConnsPerIP != 64 || c.metricsToken != "" || c.metricsAdminOnly {
		t.Fatalf("defaults %+v", c)
	}
	t.Setenv("CANVASD_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")
	t.Setenv("CANVASD_METRICS_TOKEN", "m")
	if c, err = serveFlags([]string{"--max-anon-conns-per-ip", "9"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(splitList(c.trustedProxies), " "); got != "10.0.0.0/8 127.0.0.1 ::1" || c.maxAnonConnsPerIP != 9 || c.metricsToken != "m" {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := serveFlags([]string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}); err == nil || !strings.Contains(err.Error(), "proxy.example") {
		t.Fatalf("a host name as trusted proxy: %v", err)
	}
	if _, err := serveFlags([]string{"--metrics-admin-only"}); err == nil {
		t.Fatal("--metrics-admin-only without --admin-addr accepted")
	}
	if _, err := serveFlags([]string{"--metrics-admin-only", "--admin-addr", "127.0.0.1:6060"}); err != nil {
		t.Fatal(err)
	}
}
