package main

import "testing"

// TestSecurity02_MemoryFlags: --decode-budget, --memory-limit and
// --uploads-per-minute, their defaults, size suffixes and CANVASD_* vars.
func TestSecurity02_MemoryFlags(t *testing.T) {
	clearEnv(t)
	c, err := serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.decodeBudget != 1<<30 || c.memoryLimit != 0 || c.uploadsPerMinute != 60 {
		t.Fatalf("defaults: budget %d, memory limit %d, uploads %d", c.decodeBudget, c.memoryLimit, c.uploadsPerMinute)
	}
	t.Setenv("CANVASD_MEMORY_LIMIT", "3GiB")
	t.Setenv("CANVASD_UPLOADS_PER_MINUTE", "7")
	c, err = serveFlags([]string{"--decode-budget", "512MiB"})
	if err != nil {
		t.Fatal(err)
	}
	if c.decodeBudget != 512<<20 || c.memoryLimit != 3<<30 || c.uploadsPerMinute != 7 {
		t.Fatalf("parsed: budget %d, memory limit %d, uploads %d", c.decodeBudget, c.memoryLimit, c.uploadsPerMinute)
	}
	if c, err = serveFlags([]string{"--decode-budget", "1073741824"}); err != nil || c.decodeBudget != 1<<30 {
		t.Fatalf("plain bytes: %v %v", c, err)
	}
	for _, bad := range []string{"lots", "-1", "1.5GiB", "9999999999TiB"} {
		if _, err := serveFlags([]string{"--decode-budget", bad}); err == nil {
			t.Fatalf("--decode-budget %q accepted", bad)
		}
	}
}
