package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Registration is what an applicant gives when signing up. Field-level rules
// (required, formats) are validator tags on the request structs; the rules
// here depend on the clock or on more than one field.
type Registration struct {
	Email     string
	Password  string
	Name      string
	BirthYear int
	Gender    string
	Province  string
	Commune   string
	Phone     string
	Terms     bool
	Publish   bool
}

// CheckRegistration returns every failed business rule (empty when fine).
func CheckRegistration(r Registration, now time.Time) RuleErrors {
	var errs RuleErrors
	if err := CheckPassword(r.Password, r.Email); err != nil {
		errs = append(errs, err.(*RuleError))
	}
	if y := now.Year(); r.BirthYear < y-100 || r.BirthYear > y-14 {
		errs = append(errs, &RuleError{Field: "birth_year", Key: "error.birth_year_range"})
	}
	if !r.Terms {
		errs = append(errs, &RuleError{Field: "consent", Key: "error.consent_required"})
	}
	if strings.TrimSpace(r.Name) == "" || utf8.RuneCountInString(r.Name) > 120 {
		errs = append(errs, &RuleError{Field: "name", Key: "error.name_invalid"})
	}
	return errs
}

// NormalizePhone strips spaces, dots, dashes and brackets from a phone
// number and checks what is left: an optional leading "+" and 8–15 digits.
// An empty number is fine (the field is optional).
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return s, false
		}
	}
	out := b.String()
	digits := strings.TrimPrefix(out, "+")
	if out == "" {
		return "", true
	}
	return out, len(digits) >= 8 && len(digits) <= 15
}
