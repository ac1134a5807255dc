package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || cfg.MongoURI != "" || cfg.S3Endpoint != "" ||
		cfg.MongoDatabase != "sprout" || cfg.S3Bucket != "sprout-decks" || cfg.BaseURL != "http://127.0.0.1:8080" || cfg.Secure() ||
		cfg.UploadSlots != 6 || cfg.UploadsPerAccount != 2 || cfg.UploadSlotWait != 5*time.Second || cfg.UploadMinRate != 8192 ||
		cfg.UploadRateGrace != 10*time.Second || cfg.S3PublicURL != "" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigFlagsAndFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig([]string{"--addr", "0.0.0.0:9000"}, env(map[string]string{
		"SPROUT_ADDR": "127.0.0.1:1", "SPROUT_S3_ENDPOINT": "minio:9000", "SPROUT_S3_ACCESS_KEY": "k",
		"SPROUT_S3_SECRET_KEY_FILE": secret, "SPROUT_S3_SECURE": "true", "SPROUT_BASE_URL": "https://sprout.example.vn",
		"SPROUT_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.S3SecretKey != "s3cr3t" || !cfg.S3Secure || !cfg.Secure() {
		t.Fatalf("flags/files: %+v", cfg)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"SPROUT_ADDR":                {"SPROUT_ADDR": "nonsense"},
		"SPROUT_MONGODB_URI":         {"SPROUT_MONGODB_URI": "postgres://x"},
		"SPROUT_MONGODB_DATABASE":    {"SPROUT_MONGODB_DATABASE": "a b"},
		"SPROUT_S3_ENDPOINT":         {"SPROUT_S3_ENDPOINT": "http://minio:9000"},
		"SPROUT_S3_ACCESS_KEY":       {"SPROUT_S3_ENDPOINT": "minio:9000"},
		"SPROUT_S3_SECRET_KEY":       {"SPROUT_S3_ENDPOINT": "minio:9000", "SPROUT_S3_ACCESS_KEY": "k"},
		"SPROUT_S3_BUCKET":           {"SPROUT_S3_BUCKET": "Bad_Bucket"},
		"SPROUT_S3_SECURE":           {"SPROUT_S3_SECURE": "perhaps"},
		"SPROUT_BASE_URL":            {"SPROUT_BASE_URL": "ftp://x"},
		"SPROUT_SMTP_URL":            {"SPROUT_SMTP_URL": "mail.example.vn"},
		"SPROUT_TRUSTED_PROXIES":     {"SPROUT_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"},
		"SPROUT_LOG_LEVEL":           {"SPROUT_LOG_LEVEL": "loud"},
		"SPROUT_MAIL_FROM":           {"SPROUT_MAIL_FROM": "not an address"},
		"SPROUT_S3_PUBLIC_URL":       {"SPROUT_S3_PUBLIC_URL": "files.example.vn"},
		"SPROUT_UPLOAD_SLOTS":        {"SPROUT_UPLOAD_SLOTS": "0"},
		"SPROUT_UPLOADS_PER_ACCOUNT": {"SPROUT_UPLOADS_PER_ACCOUNT": "two"},
		"SPROUT_UPLOAD_SLOT_WAIT":    {"SPROUT_UPLOAD_SLOT_WAIT": "5"},
		"SPROUT_UPLOAD_MIN_RATE":     {"SPROUT_UPLOAD_MIN_RATE": "-1"},
		"SPROUT_UPLOAD_RATE_GRACE":   {"SPROUT_UPLOAD_RATE_GRACE": "1h"},
		"SPROUT_S3_SECRET_KEY_FILE": {"SPROUT_S3_ENDPOINT": "m:9000", "SPROUT_S3_ACCESS_KEY": "k",
			"SPROUT_S3_SECRET_KEY_FILE": "/nonexistent/secret"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(nil, env(vars), &bytes.Buffer{})
			ce, ok := err.(*ConfigError)
			if !ok || ce.Var != name {
				t.Fatalf("got %v, want error naming %s", err, name)
			}
		})
	}
}

func TestRunBadConfigExits2(t *testing.T) {
	var out, errb bytes.Buffer
	code := Run([]string{"sprout"}, strings.NewReader(""), &out, &errb, env(map[string]string{"SPROUT_LOG_LEVEL": "loud"}))
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "SPROUT_LOG_LEVEL") {
		t.Fatalf("stderr %q", errb.String())
	}
	code = Run([]string{"sprout", "frobnicate"}, strings.NewReader(""), &out, &errb, env(nil))
	if code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
	out.Reset()
	if Run([]string{"sprout", "version"}, strings.NewReader(""), &out, &errb, env(nil)) != 0 || !strings.HasPrefix(out.String(), "sprout ") {
		t.Fatalf("version: %q", out.String())
	}
}

func TestRedactURI(t *testing.T) {
	if got := redactURI("mongodb://user:pw@host:27017/db"); got != "mongodb://user:***@host:27017/db" {
		t.Fatal(got)
	}
	if got := redactURI("mongodb://host/db"); got != "mongodb://host/db" {
		t.Fatal(got)
	}
}
