// Package app is Sprout's composition root: configuration, wiring, routes,
// middleware, error mapping, the embedded stack and the process lifecycle.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is read once from the environment (flags mirror every variable)
// and passed down explicitly.
type Config struct {
	Addr           string // SPROUT_ADDR
	DataDir        string // SPROUT_DATA_DIR
	MongoURI       string // SPROUT_MONGODB_URI (empty = embedded FerretDB)
	MongoDatabase  string // SPROUT_MONGODB_DATABASE
	S3Endpoint     string // SPROUT_S3_ENDPOINT (empty = embedded versitygw)
	S3AccessKey    string // SPROUT_S3_ACCESS_KEY
	S3SecretKey    string // SPROUT_S3_SECRET_KEY
	S3Bucket       string // SPROUT_S3_BUCKET
	S3Secure       bool   // SPROUT_S3_SECURE
	BaseURL        string // SPROUT_BASE_URL
	SMTPURL        string // SPROUT_SMTP_URL
	MailFrom       string // SPROUT_MAIL_FROM
	TrustedProxies string // SPROUT_TRUSTED_PROXIES
	LogLevel       string // SPROUT_LOG_LEVEL
	// S3PublicURL is the S3 address browsers can reach (scheme and host);
	// presigned download links are made for it. Empty: ?redirect=1
	// downloads stream through the app (SPROUT_S3_PUBLIC_URL).
	S3PublicURL string

	// Deck upload limits; a zero value means the default (uploadLimits).
	UploadSlots       int           // SPROUT_UPLOAD_SLOTS: uploads streaming at once (6)
	UploadsPerAccount int           // SPROUT_UPLOADS_PER_ACCOUNT: at once per account (2)
	UploadSlotWait    time.Duration // SPROUT_UPLOAD_SLOT_WAIT: longest wait for a slot before 503 (5s)
	UploadMinRate     int64         // SPROUT_UPLOAD_MIN_RATE: bytes/s after the grace; negative: none (8 KiB/s)
	UploadRateGrace   time.Duration // SPROUT_UPLOAD_RATE_GRACE: before the minimum applies (10s)
	UploadRateWindow  time.Duration // the rate is averaged over this much waiting (5s)

	// Raw text of the numeric variables, parsed by LoadConfig.
	rawSlots, rawPerAccount, rawSlotWait, rawMinRate, rawGrace string
}

// Defaults of the deck upload limits (Config.Upload*).
const (
	DefaultUploadSlots       = 6
	DefaultUploadsPerAccount = 2
	DefaultUploadSlotWait    = 5 * time.Second
	DefaultUploadMinRate     = 8 << 10
	DefaultUploadRateGrace   = 10 * time.Second
	DefaultUploadRateWindow  = 5 * time.Second
)

// ConfigError names the variable that is wrong.
type ConfigError struct {
	Var string
	Msg string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Msg }

// envVars lists each setting: variable, flag, default, whether *_FILE is
// accepted (secrets), and where it goes.
type envVar struct {
	name, flag, def, usage string
	secret                 bool
	dst                    *string
}

func (c *Config) vars() []envVar {
	return []envVar{
		{"SPROUT_ADDR", "addr", "127.0.0.1:8080", "listen address (host:port)", false, &c.Addr},
		{"SPROUT_DATA_DIR", "data-dir", "./data", "data directory for the embedded stack", false, &c.DataDir},
		{"SPROUT_MONGODB_URI", "mongodb-uri", "", "MongoDB URI; empty runs embedded FerretDB", true, &c.MongoURI},
		{"SPROUT_MONGODB_DATABASE", "mongodb-database", "sprout", "MongoDB database name", false, &c.MongoDatabase},
		{"SPROUT_S3_ENDPOINT", "s3-endpoint", "", "S3 endpoint host:port; empty runs embedded versitygw", false, &c.S3Endpoint},
		{"SPROUT_S3_ACCESS_KEY", "s3-access-key", "", "S3 access key", true, &c.S3AccessKey},
		{"SPROUT_S3_SECRET_KEY", "s3-secret-key", "", "S3 secret key", true, &c.S3SecretKey},
		{"SPROUT_S3_BUCKET", "s3-bucket", "sprout-decks", "S3 bucket for pitch decks", false, &c.S3Bucket},
		{"SPROUT_BASE_URL", "base-url", "", "public URL of the site (links in e-mails); default http://ADDR", false, &c.BaseURL},
		{"SPROUT_SMTP_URL", "smtp-url", "", "SMTP URL (smtp[s]://user:pass@host:port); empty keeps mail in the outbox", true, &c.SMTPURL},
		{"SPROUT_MAIL_FROM", "mail-from", "", "From address of e-mails; default Sprout <no-reply@HOST of SPROUT_BASE_URL>", false, &c.MailFrom},
		{"SPROUT_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed", false, &c.TrustedProxies},
		{"SPROUT_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false, &c.LogLevel},
		{"SPROUT_S3_PUBLIC_URL", "s3-public-url", "", "S3 URL browsers can reach, for presigned download links; empty streams downloads through the app", false, &c.S3PublicURL},
		{"SPROUT_UPLOAD_SLOTS", "upload-slots", "6", "deck uploads streaming to S3 at once", false, &c.rawSlots},
		{"SPROUT_UPLOADS_PER_ACCOUNT", "uploads-per-account", "2", "deck uploads one account may have in progress at once", false, &c.rawPerAccount},
		{"SPROUT_UPLOAD_SLOT_WAIT", "upload-slot-wait", "5s", "longest wait for an upload slot before 503", false, &c.rawSlotWait},
		{"SPROUT_UPLOAD_MIN_RATE", "upload-min-rate", "8192", "slowest upload accepted after the grace period, bytes per second; 0 turns it off", false, &c.rawMinRate},
		{"SPROUT_UPLOAD_RATE_GRACE", "upload-rate-grace", "10s", "how long an upload may be slower than SPROUT_UPLOAD_MIN_RATE", false, &c.rawGrace},
	}
}

// LoadConfig reads the environment (getenv), then flags in args override it.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secure := false
	for _, v := range c.vars() {
		val, err := fromEnv(v, getenv)
		if err != nil {
			return c, err
		}
		fs.StringVar(v.dst, v.flag, val, v.usage+" ("+v.name+")")
	}
	secEnv := getenv("SPROUT_S3_SECURE")
	if secEnv != "" {
		b, err := strconv.ParseBool(secEnv)
		if err != nil {
			return c, &ConfigError{"SPROUT_S3_SECURE", "must be true or false"}
		}
		secure = b
	}
	fs.BoolVar(&c.S3Secure, "s3-secure", secure, "use HTTPS to reach S3 (SPROUT_S3_SECURE)")
	if err := fs.Parse(args); err != nil {
		return c, &ConfigError{"flags", err.Error()}
	}
	if err := c.parseUploadLimits(); err != nil {
		return c, err
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	if c.MailFrom == "" {
		if u, err := url.Parse(c.BaseURL); err == nil && u.Hostname() != "" {
			c.MailFrom = "Sprout <no-reply@" + u.Hostname() + ">"
		}
	}
	return c, c.Validate()
}

func fromEnv(v envVar, getenv func(string) string) (string, error) {
	val := getenv(v.name)
	if v.secret {
		if f := getenv(v.name + "_FILE"); f != "" {
			if val != "" {
				return "", &ConfigError{v.name + "_FILE", "set both " + v.name + " and " + v.name + "_FILE; choose one"}
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return "", &ConfigError{v.name + "_FILE", "cannot read " + f}
			}
			val = strings.TrimRight(string(b), "\r\n")
		}
	}
	if val == "" {
		val = v.def
	}
	return val, nil
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Validate checks every setting and returns a *ConfigError naming the first
// variable that is wrong.
func (c *Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || !validPort(port) {
		return &ConfigError{"SPROUT_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return &ConfigError{"SPROUT_DATA_DIR", "must not be empty"}
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return &ConfigError{"SPROUT_MONGODB_URI", "must start with mongodb:// or mongodb+srv://"}
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`).MatchString(c.MongoDatabase) {
		return &ConfigError{"SPROUT_MONGODB_DATABASE", "use letters, digits, _ or - (at most 63)"}
	}
	if c.S3Endpoint != "" {
		if strings.Contains(c.S3Endpoint, "://") || strings.Contains(c.S3Endpoint, "/") {
			return &ConfigError{"SPROUT_S3_ENDPOINT", "give host:port without scheme or path (use SPROUT_S3_SECURE for HTTPS)"}
		}
		if c.S3AccessKey == "" {
			return &ConfigError{"SPROUT_S3_ACCESS_KEY", "required when SPROUT_S3_ENDPOINT is set"}
		}
		if c.S3SecretKey == "" {
			return &ConfigError{"SPROUT_S3_SECRET_KEY", "required when SPROUT_S3_ENDPOINT is set"}
		}
	}
	if !bucketName.MatchString(c.S3Bucket) {
		return &ConfigError{"SPROUT_S3_BUCKET", "not a valid bucket name (3–63 lower-case letters, digits, . or -)"}
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ConfigError{"SPROUT_BASE_URL", "must be an http(s) URL such as https://sprout.example.vn"}
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return &ConfigError{"SPROUT_SMTP_URL", "must look like smtp://user:pass@host:587 or smtps://…:465"}
		}
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return &ConfigError{"SPROUT_MAIL_FROM", `must be an address such as "Sprout <no-reply@sprout.example.vn>"`}
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if c.S3PublicURL != "" {
		if u, err := url.Parse(c.S3PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return &ConfigError{"SPROUT_S3_PUBLIC_URL", "must be http(s)://host[:port] without a path, such as https://files.sprout.example.vn"}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &ConfigError{"SPROUT_LOG_LEVEL", "must be debug, info, warn or error"}
	}
	return nil
}

// parseUploadLimits reads the upload variables' text into their fields.
func (c *Config) parseUploadLimits() error {
	ints := []struct {
		name, raw string
		dst       *int
	}{{"SPROUT_UPLOAD_SLOTS", c.rawSlots, &c.UploadSlots}, {"SPROUT_UPLOADS_PER_ACCOUNT", c.rawPerAccount, &c.UploadsPerAccount}}
	for _, v := range ints {
		n, err := strconv.Atoi(strings.TrimSpace(v.raw))
		if err != nil || n < 1 || n > 1000 {
			return &ConfigError{v.name, fmt.Sprintf("%q is not a whole number from 1 to 1000", v.raw)}
		}
		*v.dst = n
	}
	durs := []struct {
		name, raw string
		dst       *time.Duration
	}{{"SPROUT_UPLOAD_SLOT_WAIT", c.rawSlotWait, &c.UploadSlotWait}, {"SPROUT_UPLOAD_RATE_GRACE", c.rawGrace, &c.UploadRateGrace}}
	for _, v := range durs {
		d, err := time.ParseDuration(strings.TrimSpace(v.raw))
		if err != nil || d < time.Second || d > 10*time.Minute {
			return &ConfigError{v.name, fmt.Sprintf("%q is not a duration from 1s to 10m (such as 5s)", v.raw)}
		}
		*v.dst = d
	}
	n, err := strconv.ParseInt(strings.TrimSpace(c.rawMinRate), 10, 64)
	if err != nil || n < 0 || n > 1<<30 {
		return &ConfigError{"SPROUT_UPLOAD_MIN_RATE", fmt.Sprintf("%q is not a number of bytes per second (0 turns the minimum off)", c.rawMinRate)}
	}
	c.UploadMinRate = n
	if n == 0 {
		c.UploadMinRate = -1
	}
	return nil
}

// uploadLimits returns the upload limits with defaults for zero values.
func (c *Config) uploadLimits() Config {
	l := *c
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.UploadSlots <= 0 {
		l.UploadSlots = DefaultUploadSlots
	}
	if l.UploadsPerAccount <= 0 {
		l.UploadsPerAccount = DefaultUploadsPerAccount
	}
	if l.UploadMinRate == 0 {
		l.UploadMinRate = DefaultUploadMinRate
	}
	def(&l.UploadSlotWait, DefaultUploadSlotWait)
	def(&l.UploadRateGrace, DefaultUploadRateGrace)
	def(&l.UploadRateWindow, DefaultUploadRateWindow)
	return l
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// trustedProxies parses SPROUT_TRUSTED_PROXIES.
func (c *Config) trustedProxies() ([]string, error) {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, &ConfigError{"SPROUT_TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP or CIDR", p)}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Secure reports whether the site is served over TLS (cookies get Secure,
// HSTS is sent).
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// IsConfigError reports whether err is a configuration error.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
