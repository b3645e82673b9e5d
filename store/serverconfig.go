package store

import "encoding/json"

// ServerConfig is the persisted /server-config document: the settings an
// admin changes at run time (sign-up, approval, email). Fields follow the
// Canvus API names.
type ServerConfig struct {
	Authentication AuthConfig  `json:"authentication"`
	Email          EmailConfig `json:"email"`
	ExternalURL    string      `json:"external_url"`
	ServerName     string      `json:"server_name"`
}

// AuthConfig is ServerConfig.authentication.
type AuthConfig struct {
	// DomainAllowList, when not empty, limits sign-up to these email domains.
	DomainAllowList []string       `json:"domain_allow_list"`
	Password        PasswordConfig `json:"password"`
	QRCode          EnabledConfig  `json:"qr_code"`
	// RequireAdminApproval makes self-registered users wait for an admin
	// (POST /users/:id/approve) before they can sign in.
	RequireAdminApproval bool       `json:"require_admin_approval"`
	SAML                 SAMLConfig `json:"saml"`
}

// PasswordConfig is authentication.password.
type PasswordConfig struct {
	Enabled       bool `json:"enabled"`
	SignUpEnabled bool `json:"sign_up_enabled"`
}

// EnabledConfig is a section with only an on/off switch.
type EnabledConfig struct {
	Enabled bool `json:"enabled"`
}

// SAMLConfig is authentication.saml. canvasd does not implement SAML, so
// Enabled is always false; the other fields are kept as given.
type SAMLConfig struct {
	ACSURL             string `json:"acs_url"`
	Enabled            bool   `json:"enabled"`
	IdPCertFingerPrint string `json:"idp_cert_finger_print"`
	IdPEntityID        string `json:"idp_entity_id"`
	IdPTargetURL       string `json:"idp_target_url"`
	NameIDFormat       string `json:"name_id_format"`
	SignUpEnabled      bool   `json:"sign_up_enabled"`
	SPEntityID         string `json:"sp_entity_id"`
}

// EmailConfig is ServerConfig.email: the outgoing mail settings.
type EmailConfig struct {
	MailReplyToAddress              string `json:"mail_reply_to_address"`
	MailReplyToName                 string `json:"mail_reply_to_name"`
	MailSenderAddress               string `json:"mail_sender_address"`
	MailSenderName                  string `json:"mail_sender_name"`
	SMTPAllowSelfSignedCertificates bool   `json:"smtp_allow_self_signed_certificates"`
	SMTPHost                        string `json:"smtp_host"`
	SMTPPassword                    string `json:"smtp_password"`
	SMTPPort                        int    `json:"smtp_port"`
	SMTPSecurity                    string `json:"smtp_security"`
	SMTPUsername                    string `json:"smtp_username"`
}

// DefaultServerConfig is the configuration of a server no admin has
// changed: password sign-in on, sign-up off, no approval step.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Authentication: AuthConfig{DomainAllowList: []string{}, Password: PasswordConfig{Enabled: true}},
		Email:          EmailConfig{SMTPPort: 25, SMTPSecurity: "none"},
	}
}

// ServerConfig returns the stored configuration, or DefaultServerConfig.
func (t *Tx) ServerConfig() (ServerConfig, error) {
	cfg := DefaultServerConfig()
	v := t.btx.Bucket(bucketMeta).Get(metaServerConfig)
	if v == nil {
		return cfg, nil
	}
	if err := json.Unmarshal(v, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Authentication.DomainAllowList == nil {
		cfg.Authentication.DomainAllowList = []string{}
	}
	return cfg, nil
}

// PutServerConfig stores cfg.
func (t *Tx) PutServerConfig(cfg ServerConfig) error {
	t.authChanged() // sign-in rules live here; ?subscribe streams re-read it
	return putJSON(t.btx.Bucket(bucketMeta), metaServerConfig, cfg)
}
