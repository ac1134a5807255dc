package models

import "time"

// MailMaxAttempts is how many times Sprout tries to deliver one e-mail
// before it leaves it in the outbox for staff to handle by hand: enough to
// ride out an SMTP outage, few enough that a refused address stops.
const MailMaxAttempts = 10

// OutboxMail is an e-mail waiting to be sent (or shown to staff when no
// SMTP server is configured). Every message is written here first, so none
// is lost when the SMTP server is down.
type OutboxMail struct {
	ID        string     `bson:"_id"`
	To        string     `bson:"to"`
	Subject   string     `bson:"subject"`
	Body      string     `bson:"body"`
	CreatedAt time.Time  `bson:"created_at"`
	SentAt    *time.Time `bson:"sent_at,omitempty"`
	Attempts  int        `bson:"attempts"`
	LastError string     `bson:"last_error,omitempty"`
}

// Outbox states, as Status reports them.
const (
	MailSent    = "sent"
	MailPending = "pending"
	MailFailed  = "failed" // gave up after MailMaxAttempts
)

// Status is where the message is: sent, still being tried, or given up.
func (m OutboxMail) Status() string {
	switch {
	case m.SentAt != nil:
		return MailSent
	case m.Attempts >= MailMaxAttempts:
		return MailFailed
	default:
		return MailPending
	}
}
