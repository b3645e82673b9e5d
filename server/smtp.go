package server

import "github.com/canvasd/canvasd/server/canvus"

// CheckSMTPURL reports whether s is a usable Config.SMTPURL ("" is: it
// means no mail), for cmd/canvasd to refuse a bad --smtp-url at start.
func CheckSMTPURL(s string) error { return canvus.CheckSMTPURL(s) }
