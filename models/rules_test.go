package models

import (
	"testing"
	"time"
)

func TestCheckRegistration(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	ok := Registration{Email: "a@b.vn", Password: "mùa xuân trên cao nguyên", Name: "Mai", BirthYear: 2000, Terms: true}
	if errs := CheckRegistration(ok, now); len(errs) != 0 {
		t.Fatalf("valid registration refused: %v", errs)
	}
	bad := Registration{Email: "a@b.vn", Password: "123", Name: " ", BirthYear: 2020}
	errs := CheckRegistration(bad, now)
	fields := map[string]string{}
	for _, e := range errs {
		fields[e.Field] = e.Key
	}
	want := map[string]string{"password": "error.password_short", "birth_year": "error.birth_year_range", "consent": "error.consent_required", "name": "error.name_invalid"}
	for f, k := range want {
		if fields[f] != k {
			t.Errorf("field %s: got %q, want %q", f, fields[f], k)
		}
	}
}
