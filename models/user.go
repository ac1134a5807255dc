package models

import (
	"slices"
	"strings"
	"time"
)

// Role is what a user may do. A user can hold several.
type Role string

// The roles Sprout knows.
const (
	RoleApplicant Role = "applicant"
	RoleJudge     Role = "judge"
	RoleMentor    Role = "mentor"
	RoleStaff     Role = "staff"
	RoleAdmin     Role = "admin"
)

// AllRoles lists every role in display order.
var AllRoles = []Role{RoleApplicant, RoleJudge, RoleMentor, RoleStaff, RoleAdmin}

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	return r, slices.Contains(AllRoles, r)
}

// User is an account. The password hash never leaves the store layer in a
// response: handlers build their own response structs.
type User struct {
	ID           string     `bson:"_id"`
	Email        string     `bson:"email"` // lower-cased, trimmed
	Name         string     `bson:"name"`
	PasswordHash string     `bson:"password_hash"`
	Roles        []Role     `bson:"roles"`
	BirthYear    int        `bson:"birth_year,omitempty"`
	Gender       string     `bson:"gender,omitempty"`
	Province     string     `bson:"province,omitempty"`
	Commune      string     `bson:"commune,omitempty"`
	Phone        string     `bson:"phone,omitempty"`
	Consents     []Consent  `bson:"consents,omitempty"`
	Disabled     bool       `bson:"disabled"`
	Locale       string     `bson:"locale,omitempty"`
	CreatedAt    time.Time  `bson:"created_at"`
	UpdatedAt    time.Time  `bson:"updated_at"`
	DisabledAt   *time.Time `bson:"disabled_at,omitempty"`
	// SessionEpoch moves on whenever every credential of the account must
	// stop working (disabled, password changed); sessions and tokens carry
	// the epoch they were made under.
	SessionEpoch int64 `bson:"session_epoch,omitempty"`
}

// HasRole reports whether u holds any of roles.
func (u *User) HasRole(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// NormalizeEmail makes e-mail comparison case-insensitive: the whole address
// is lower-cased (mailbox case-sensitivity is not relied on in practice).
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// Genders accepted on forms; empty means not given.
var Genders = []string{"female", "male", "other"}

// Profile is what a person may correct about themselves (the right to
// correction of Law 91/2025/QH15).
type Profile struct {
	Name      string `json:"name" validate:"required,max=120"`
	Phone     string `json:"phone" validate:"omitempty,max=20"`
	BirthYear int    `json:"birth_year" validate:"omitempty,min=1900,max=2100"`
	Province  string `json:"province" validate:"omitempty,max=100"`
	Commune   string `json:"commune" validate:"omitempty,max=100"`
}
