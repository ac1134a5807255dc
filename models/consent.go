package models

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// NoticeVersion is the privacy notice applicants consent to now. Change it
// (and the notice text in the locale files) together.
const NoticeVersion = "2026-01"

// Consent purposes (DOMAIN.md, personal data). Each is agreed separately and
// is never pre-ticked.
const (
	PurposeTerms   = "terms"   // processing needed to run the contest
	PurposePublish = "publish" // publishing a winner's name or photo
)

// Consent records one purpose agreed to: what notice, its text hash, when and
// through which channel (web form or API).
type Consent struct {
	Purpose       string    `bson:"purpose" json:"purpose"`
	NoticeVersion string    `bson:"notice_version" json:"notice_version"`
	TextHash      string    `bson:"text_hash" json:"text_hash"`
	Channel       string    `bson:"channel" json:"channel"`
	At            time.Time `bson:"at" json:"at"`
}

// HashNotice returns the hex SHA-256 of the notice text a person was shown,
// so the exact wording they agreed to can be proven later.
func HashNotice(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}
