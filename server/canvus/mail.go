package canvus

// Account emails: password reset links, email confirmation links and the
// admin's test email. With Config.SMTPURL set they are sent with net/smtp;
// without it nothing is sent and the link is logged at info level, so that
// an operator can pass it on by hand.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// smtpTimeout bounds one whole SMTP exchange.
const smtpTimeout = 20 * time.Second

// smtpTarget is where mail goes: a parsed Config.SMTPURL, or the server
// config's email section.
type smtpTarget struct {
	addr, host     string // host:port, host
	user, password string
	from           string
	// tls: "" (STARTTLS when the server offers it), "starttls" (required),
	// "ssl" (TLS from the first byte), "none" (never).
	tls      string
	insecure bool // accept self-signed certificates
}

// CheckSMTPURL reports whether s is a usable Config.SMTPURL ("" is: it
// means no mail).
func CheckSMTPURL(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseSMTPURL(s)
	return err
}

func parseSMTPURL(s string) (smtpTarget, error) {
	u, err := url.Parse(s)
	if err != nil {
		return smtpTarget{}, fmt.Errorf("smtp url: %w", err)
	}
	if u.Scheme != "smtp" || u.Hostname() == "" {
		return smtpTarget{}, errors.New("smtp url: want smtp://[user:password@]host[:port][?from=address]")
	}
	t := smtpTarget{host: u.Hostname(), addr: u.Host, from: u.Query().Get("from")}
	if u.Port() == "" {
		t.addr = net.JoinHostPort(t.host, "25")
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	return t, nil
}

// accountMail is one email to a user.
type accountMail struct {
	to, subject, text string
	link              string // the link the email carries, logged when there is no SMTP
	kind              string // for the log: password_reset, email_confirmation, test
}

// mailTarget is where mail goes: Config.SMTPURL when set, else the server
// config's email.smtp_host when an admin set one; ok is false when neither.
func (s *API) mailTarget(cfg store.ServerConfig) (t smtpTarget, ok bool, err error) {
	if s.Cfg.SMTPURL != "" {
		t, err = parseSMTPURL(s.Cfg.SMTPURL)
		return t, err == nil, err
	}
	e := cfg.Email
	if e.SMTPHost == "" {
		return t, false, nil
	}
	port := e.SMTPPort
	if port == 0 {
		port = 25
	}
	t = smtpTarget{host: e.SMTPHost, addr: net.JoinHostPort(e.SMTPHost, strconv.Itoa(port)), user: e.SMTPUsername,
		password: e.SMTPPassword, tls: e.SMTPSecurity, insecure: e.SMTPAllowSelfSignedCertificates}
	if t.tls == "tls" {
		t.tls = "ssl"
	}
	return t, true, nil
}

// mailConfigured reports whether sendMail sends (rather than logs).
func (s *API) mailConfigured() bool {
	var cfg store.ServerConfig
	s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return })
	_, ok, _ := s.mailTarget(cfg)
	return ok
}

// sendMail delivers m: over SMTP when configured, else by logging its link.
func (s *API) sendMail(c *gin.Context, m accountMail) error {
	rid := c.GetString("request_id")
	var cfg store.ServerConfig
	s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return })
	t, ok, err := s.mailTarget(cfg)
	if err != nil {
		return err
	}
	if !ok {
		s.Log.Info().Str("request_id", rid).Str("kind", m.kind).Str("to", m.to).Str("link", m.link).
			Msg("email not sent (no --smtp-url or server-config smtp_host): pass this link on to the user")
		return nil
	}
	from := t.from
	if from == "" {
		from = cfg.Email.MailSenderAddress
	}
	if from == "" {
		from = "canvasd@" + t.host
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), smtpTimeout)
	defer cancel()
	if err := smtpSend(ctx, t, from, m.to, buildMail(from, cfg.Email.MailSenderName, m, s.Now())); err != nil {
		return fmt.Errorf("send %s email: %w", m.kind, err)
	}
	s.Log.Info().Str("request_id", rid).Str("kind", m.kind).Str("to", m.to).Msg("email sent")
	return nil
}

// buildMail is the RFC 5322 message: plain text, CRLF line ends.
func buildMail(from, fromName string, m accountMail, now time.Time) []byte {
	hdrFrom := from
	if fromName != "" {
		hdrFrom = fmt.Sprintf("%q <%s>", fromName, from)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		hdrFrom, m.to, m.subject, now.Format(time.RFC1123Z))
	for _, line := range strings.Split(m.text, "\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}

// smtpSend is smtp.SendMail with a deadline: STARTTLS when offered, AUTH
// PLAIN when the URL has a user (net/smtp refuses it without TLS, except
// to localhost).
func smtpSend(ctx context.Context, t smtpTarget, from, to string, msg []byte) error {
	var d net.Dialer
	var conn net.Conn
	conn, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tlsCfg := &tls.Config{ServerName: t.host, InsecureSkipVerify: t.insecure} // #nosec G402 -- only when the admin allows self-signed certificates
	if t.tls == "ssl" {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, t.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if t.tls == "" || t.tls == "starttls" {
		ok, _ := c.Extension("STARTTLS")
		if !ok && t.tls == "starttls" {
			return errors.New("the mail server does not offer STARTTLS")
		}
		if ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return err
			}
		}
	}
	if t.user != "" {
		if err := c.Auth(smtp.PlainAuth("", t.user, t.password, t.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// publicBase is the base URL links in emails start with: the server
// config's external_url, else Config.PublicURL, else (only when no mail is
// sent, the link being logged for the operator) the request's own. A mailed
// link never trusts the request's Host header: without a configured URL it
// is a bare path.
func (s *API) publicBase(c *gin.Context) string {
	var cfg store.ServerConfig
	s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return })
	if cfg.ExternalURL != "" {
		return strings.TrimRight(cfg.ExternalURL, "/")
	}
	if s.Cfg.PublicURL != "" {
		return strings.TrimRight(s.Cfg.PublicURL, "/")
	}
	if s.mailConfigured() {
		return ""
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
