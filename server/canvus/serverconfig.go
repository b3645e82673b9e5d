package canvus

// /server-config (read by anyone, a subset unless admin; changed by admins;
// persisted in the store) and /license (what an open-source server has: no
// expiry, no seat limit).

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/canvasd/canvasd/server/internal/core"
	"github.com/canvasd/canvasd/store"
	"github.com/gin-gonic/gin"
)

// serverConfigJSON is cfg as the caller may see it: all of it, plus
// "access": "rw", for an admin; the sign-in settings, external_url and
// server_name for anyone else. The SMTP password is never shown.
func (s *API) serverConfigJSON(cfg store.ServerConfig, admin bool) gin.H {
	if cfg.ExternalURL == "" {
		cfg.ExternalURL = s.Cfg.PublicURL
	}
	a := cfg.Authentication
	if !admin {
		return gin.H{
			"authentication": gin.H{"password": a.Password, "qr_code": a.QRCode, "saml": a.SAML},
			"external_url":   cfg.ExternalURL,
			"server_name":    cfg.ServerName,
		}
	}
	cfg.Email.SMTPPassword = ""
	return gin.H{"access": "rw", "authentication": a, "email": cfg.Email, "external_url": cfg.ExternalURL, "server_name": cfg.ServerName}
}

func (s *API) GetServerConfig(c *gin.Context) {
	var cfg store.ServerConfig
	if err := s.St.View(func(tx *store.Tx) (err error) { cfg, err = tx.ServerConfig(); return }); err != nil {
		core.CanvusStoreError(c, err, "Server config")
		return
	}
	u := core.UserOf(c)
	s.respond(c, s.serverConfigJSON(cfg, u != nil && u.Admin), nil)
}

// PatchServerConfig merges the body into the stored configuration: objects
// merge key by key, anything else replaces; null and unknown keys change
// nothing; "access" is read-only. A wrong type or an impossible value is a
// 400 and nothing is stored.
func (s *API) PatchServerConfig(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	var patch map[string]any
	if !core.CanvusJSON(c, &patch) {
		return
	}
	if patch == nil {
		core.CanvusError(c, http.StatusBadRequest, "Invalid JSON: expected an object")
		return
	}
	delete(patch, "access")
	// An empty smtp_password keeps the stored one: GET never shows it, so
	// a client that posts back what it read must not erase it.
	if em, ok := patch["email"].(map[string]any); ok {
		if pw, ok := em["smtp_password"].(string); ok && pw == "" {
			delete(em, "smtp_password")
		}
	}
	var out store.ServerConfig
	err := s.St.Write(func(tx *store.Tx) error {
		cur, err := tx.ServerConfig()
		if err != nil {
			return err
		}
		b, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		mergeJSON(doc, patch)
		b, err = json.Marshal(doc)
		if err != nil {
			return err
		}
		var next store.ServerConfig
		if err := core.DecodeJSON(b, &next); err != nil {
			return store.Invalidf(err.Error())
		}
		if msg := checkServerConfig(&next); msg != "" {
			return store.Invalidf(msg)
		}
		out = next
		if err := tx.PutServerConfig(next); err != nil {
			return err
		}
		return tx.AppendAudit(store.AuditEvent{AuthorID: authorOf(c), Action: "server_config.changed", TargetType: "server_config",
			TargetID: "server_config", Details: patch})
	})
	if err != nil {
		core.CanvusStoreError(c, err, "Server config")
		return
	}
	c.JSON(http.StatusOK, s.serverConfigJSON(out, true))
}

// mergeJSON merges patch into doc: objects key by key (recursively), other
// values replace, null leaves the value as it is.
func mergeJSON(doc, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				mergeJSON(dm, pm)
				continue
			}
		}
		doc[k] = v
	}
}

// checkServerConfig says what is impossible in cfg ("" when nothing),
// normalising what it accepts.
func checkServerConfig(cfg *store.ServerConfig) string {
	a := &cfg.Authentication
	if a.SAML.Enabled {
		return "SAML sign-in is not supported by this server: authentication.saml.enabled must be false"
	}
	if !a.Password.Enabled && a.Password.SignUpEnabled {
		return "authentication.password.sign_up_enabled needs authentication.password.enabled"
	}
	for i, d := range a.DomainAllowList {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || strings.ContainsAny(d, "@/ ") {
			return "authentication.domain_allow_list: " + strconv.Quote(a.DomainAllowList[i]) + " is not a domain"
		}
		a.DomainAllowList[i] = d
	}
	if a.DomainAllowList == nil {
		a.DomainAllowList = []string{}
	}
	e := &cfg.Email
	if e.SMTPPort < 0 || e.SMTPPort > 65535 {
		return "email.smtp_port must be between 0 and 65535"
	}
	switch e.SMTPSecurity {
	case "none", "starttls", "ssl", "tls":
	case "":
		e.SMTPSecurity = "none"
	default:
		return "email.smtp_security must be none, starttls or ssl"
	}
	for _, addr := range []string{e.MailSenderAddress, e.MailReplyToAddress} {
		if addr != "" {
			if _, err := store.NormalizeEmail(addr); err != nil {
				return "email: " + strconv.Quote(addr) + " is not a plain email address"
			}
		}
	}
	if cfg.ExternalURL != "" {
		u, err := url.Parse(cfg.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "external_url must be an absolute http or https URL"
		}
	}
	return ""
}

// SendTestEmail mails the calling admin (POST /server-config/send-test-email).
func (s *API) SendTestEmail(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	me := core.UserOf(c)
	if me.Email == "" {
		core.CanvusError(c, http.StatusBadRequest, "Your account has no email address")
		return
	}
	base := s.publicBase(c)
	err := s.sendMail(c, accountMail{to: me.Email, kind: "test", link: base + "/",
		subject: "canvasd test email", text: "This is a test email from canvasd at " + base + ".\n"})
	if err != nil {
		c.Error(err)
		core.CanvusError(c, http.StatusBadGateway, "The test email could not be sent: "+err.Error())
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// GetLicense: canvasd is open source, so its license is always valid,
// never expires and has no seat limit (max_clients -1, as Canvus shows an
// unlimited license). Activation and installation (POST /license,
// /license/activate, GET /license/request) are not served: there is no
// key to activate.
func (s *API) GetLicense(c *gin.Context) {
	if !adminOnlyCanvus(c) {
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"edition":     "open source",
		"has_expired": false,
		"is_valid":    true,
		"max_clients": -1,
		"type":        "open-source",
		"valid_until": "",
	}) // never changes, so ?subscribe has nothing to follow: plain JSON
}
