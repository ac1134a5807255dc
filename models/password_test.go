package models

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		pw, email, key string
	}{
		{"short", "a@b.vn", "error.password_short"},
		{"1234567", "a@b.vn", "error.password_short"},
		{strings.Repeat("x", 129), "a@b.vn", "error.password_long"},
		{"password123", "a@b.vn", "error.password_common"},
		{"MatKhau123", "a@b.vn", "error.password_common"},
		{"hoangthimai", "hoangthimai@example.vn", "error.password_common"},
		{"mùa xuân trên cao nguyên", "a@b.vn", ""},
		{"tám ký tự", "a@b.vn", ""}, // 9 runes, more bytes: runes count
		{strings.Repeat("ab", 64), "a@b.vn", ""},
		{"Tr0ub4dor&3", "a@b.vn", ""},                                // no composition rules either way
		{"        ", "a@b.vn", "error.password_blank"},               // eight spaces
		{"\t \u00a0\u3000 \n\t  ", "a@b.vn", "error.password_blank"}, // any Unicode space
		{"  abc     ", "a@b.vn", "error.password_short"},             // 3 characters once trimmed
		{" núi rừng xa ", "a@b.vn", ""},                              // spaces inside count
	}
	for _, tc := range cases {
		t.Run(tc.pw[:min(len(tc.pw), 12)], func(t *testing.T) {
			err := CheckPassword(tc.pw, tc.email)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			re, ok := err.(*RuleError)
			if !ok || re.Key != tc.key || re.Field != "password" {
				t.Fatalf("got %v, want %s", err, tc.key)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("một cụm từ bí mật")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash parameters: %s", h)
	}
	h2, _ := HashPassword("một cụm từ bí mật")
	if h == h2 {
		t.Fatal("same hash twice: salt not random")
	}
	for pw, want := range map[string]bool{"một cụm từ bí mật": true, "một cụm từ bí mậT": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Fatalf("verify %q = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$bcrypt$x", "$argon2id$v=19$m=1,t=1,p=1$!!$!!", "$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$a2V5"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Fatalf("malformed hash %q accepted", bad)
		}
	}
	// The dummy hash used for unknown e-mails must parse, or unknown
	// e-mails would answer faster than wrong passwords.
	if ok, err := VerifyPassword(DummyHash, "anything"); err != nil || ok {
		t.Fatalf("dummy hash: %v %v", ok, err)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{"": "", "0912 345 678": "0912345678", "+84 (912) 345-678": "+84912345678", "0912.345.678": "0912345678"} {
		got, ok := NormalizePhone(in)
		if !ok || got != want {
			t.Fatalf("%q → %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"call me", "12345", "+84+912345678", "0912345678901234567"} {
		if _, ok := NormalizePhone(bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestRolesAndEmail(t *testing.T) {
	if r, ok := ParseRole(" Judge "); !ok || r != RoleJudge {
		t.Fatal("ParseRole judge")
	}
	if _, ok := ParseRole("root"); ok {
		t.Fatal("unknown role accepted")
	}
	u := &User{Roles: []Role{RoleJudge}}
	if !u.HasRole(RoleAdmin, RoleJudge) || u.HasRole(RoleAdmin) {
		t.Fatal("HasRole")
	}
	if NormalizeEmail("  Mai@Example.VN ") != "mai@example.vn" {
		t.Fatal("NormalizeEmail")
	}
}
