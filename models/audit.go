package models

import "time"

// AuditEvent is one line of the audit log: who did what, to what, when (UTC).
// The log is insert-only; there is no update or delete path. Never put a
// password or token in it.
type AuditEvent struct {
	ID     string    `bson:"_id"`
	At     time.Time `bson:"at"`
	Actor  string    `bson:"actor"` // user ID, or "" when unknown
	Action string    `bson:"action"`
	Target string    `bson:"target,omitempty"`
	IP     string    `bson:"ip,omitempty"`
	Detail string    `bson:"detail,omitempty"`
}

// Audit actions recorded so far.
const (
	AuditLoginOK     = "login:ok"
	AuditLoginFailed = "login:failed"
	AuditLoginDenied = "login:throttled"
	AuditUserCreated = "user:created"
	// AuditRegisterTaken: someone tried to register an address that has an account.
	AuditRegisterTaken = "user:register_taken"
	AuditUserDisable   = "user:disabled"
	AuditUserEnable    = "user:enabled"
	AuditTokenIssued   = "token:issued"
	AuditAccessDeny    = "access:denied"
)
