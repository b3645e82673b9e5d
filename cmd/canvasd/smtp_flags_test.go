package main

import (
	"strings"
	"testing"
	"time"
)

// The account-email flags: --smtp-url (checked at start), the token TTLs,
// and their CANVASD_* variables.
func TestServeFlagsAccountEmail(t *testing.T) {
	clearEnv(t)
	c, err := serveFlags(nil)
	if err != nil || c.smtpURL != "" || c.passwordResetTTL != time.Hour || c.emailConfirmTTL != 48*time.Hour {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	t.Setenv("CANVASD_SMTP_URL", "smtp://mailer:secret@mail.example.com:587?from=noreply@example.com")
	t.Setenv("CANVASD_PASSWORD_RESET_TTL", "15m")
	c, err = serveFlags([]string{"--email-confirm-ttl", "2h"})
	if err != nil || c.smtpURL != "smtp://mailer:secret@mail.example.com:587?from=noreply@example.com" ||
		c.passwordResetTTL != 15*time.Minute || c.emailConfirmTTL != 2*time.Hour {
		t.Fatalf("env and flags: %+v %v", c, err)
	}
	for _, bad := range []string{"http://mail.example.com", "mail.example.com:25", "smtp://"} {
		if _, err := serveFlags([]string{"--smtp-url", bad}); err == nil || !strings.Contains(err.Error(), "--smtp-url") {
			t.Errorf("--smtp-url %q: %v, want a refusal naming the flag", bad, err)
		}
	}
}
