package models

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds (SECURITY.md 9): at least 8 characters, long
// passphrases allowed, no composition rules.
const (
	PasswordMin = 8
	PasswordMax = 128
)

//go:embed common_passwords.txt
var commonPasswordsText string

// CheckPassword applies the password rules and returns a *RuleError naming
// the field "password" with a message key, or nil.
func CheckPassword(pw, email string) error {
	// Length counts what is left after trimming spaces at the ends, so
	// eight spaces (or "  abc   ") are not a password; spaces inside a
	// passphrase count as usual.
	n := utf8.RuneCountInString(strings.TrimSpace(pw))
	switch {
	case strings.TrimSpace(pw) == "" && pw != "":
		return &RuleError{Field: "password", Key: "error.password_blank"}
	case n < PasswordMin:
		return &RuleError{Field: "password", Key: "error.password_short"}
	case n > PasswordMax:
		return &RuleError{Field: "password", Key: "error.password_long"}
	}
	low := strings.ToLower(pw)
	if isCommonPassword(low) {
		return &RuleError{Field: "password", Key: "error.password_common"}
	}
	if local, _, ok := strings.Cut(NormalizeEmail(email), "@"); ok && len(local) >= 4 && low == local {
		return &RuleError{Field: "password", Key: "error.password_common"}
	}
	return nil
}

func isCommonPassword(low string) bool {
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if strings.ToLower(strings.TrimSpace(sc.Text())) == low {
			return true
		}
	}
	return false
}

// Argon2id parameters: OWASP's minimum (m = 19 MiB, t = 2, p = 1).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-formatted argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash means a stored hash could not be parsed.
var errBadHash = errors.New("password: malformed hash")

// VerifyPassword reports whether pw matches the PHC hash. The parameters are
// read from the hash, so old hashes keep working when the defaults rise.
func VerifyPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyHash is verified against when an e-mail is unknown, so unknown and
// wrong-password logins cost the same time (SECURITY.md 10).
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c3Byb3V0LWR1bW15LXNhbHQ$Vq2Ztw6Yx1m0c2b4d9cF0zjkG0pYpXvGQ3dJb4YxkAg"
