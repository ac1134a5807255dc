package handlers

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/views"
)

// HTTPError is an error a handler detects itself (bad JSON, failed field
// validation) with its status, machine code and message key. Fields holds
// already-translated messages per field.
type HTTPError struct {
	Status int
	Code   string
	Key    string
	Args   []any
	Fields map[string]string
	Err    error
}

func (e *HTTPError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Code, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Code)
}

func (e *HTTPError) Unwrap() error { return e.Err }

// validationFailed is the 422 answer for field errors.
func validationFailed(fields map[string]string) error {
	return &HTTPError{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed", Key: "error.validation_failed", Fields: fields}
}

// Problem is an error turned into what the user sees.
type Problem struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
}

// Classify is the one place where errors become HTTP: status, code and a
// message in the user's language. Unknown errors are 500s whose text never
// reaches the user.
func Classify(err error, tr *views.Translator) Problem {
	var he *HTTPError
	var fe *fiber.Error
	var rules models.RuleErrors
	var rule *models.RuleError
	m := matchSentinel(err)
	switch {
	case errors.As(err, &he):
		return Problem{Status: he.Status, Code: he.Code, Message: tr.T(he.Key, he.Args...), Fields: he.Fields}
	case errors.As(err, &rules):
		return Problem{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
			Message: tr.T("error.validation_failed"), Fields: ruleMessages(rules, tr, nil)}
	case errors.As(err, &rule):
		return Problem{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
			Message: tr.T("error.validation_failed"), Fields: ruleMessages(models.RuleErrors{rule}, tr, nil)}
	case errors.Is(err, models.ErrEmailTaken):
		p := simple(fiber.StatusConflict, "email_taken", "error.email_taken", tr)
		p.Fields = map[string]string{"email": p.Message}
		return p
	case m != nil:
		return simple(m.status, m.code, m.key, tr)
	case errors.As(err, &fe):
		code := "http_" + strconv.Itoa(fe.Code)
		switch fe.Code {
		case fiber.StatusNotFound:
			code = "not_found"
		case fiber.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case fiber.StatusRequestEntityTooLarge:
			code = "too_large"
		case fiber.StatusBadRequest:
			code = "bad_request"
		case fiber.StatusForbidden:
			code = "forbidden"
		}
		key := "error." + strconv.Itoa(fe.Code)
		if !tr.Has(key) {
			key = "error.500"
		}
		return simple(fe.Code, code, key, tr)
	default:
		return simple(fiber.StatusInternalServerError, "internal", "error.internal", tr)
	}
}

// sentinel maps one domain error to its answer.
type sentinel struct {
	err    error
	status int
	code   string
	key    string
}

// sentinels is checked in order: the first error the chain matches wins.
var sentinels = []sentinel{
	{models.ErrNotFound, fiber.StatusNotFound, "not_found", "error.not_found"},
	{models.ErrStale, fiber.StatusConflict, "stale", "error.stale"},
	{models.ErrNotEditable, fiber.StatusConflict, "not_editable", "error.not_editable"},
	{models.ErrDeadlinePassed, fiber.StatusConflict, "deadline_passed", "error.deadline_passed"},
	{models.ErrAlreadyLeads, fiber.StatusConflict, "already_leads", "error.already_leads"},
	{models.ErrNotOpen, fiber.StatusConflict, "not_open", "error.not_open"},
	{models.ErrBadTransition, fiber.StatusConflict, "illegal_transition", "error.conflict"},
	{models.ErrConflict, fiber.StatusConflict, "conflict", "error.conflict"},
	{models.ErrRoundUnknown, fiber.StatusNotFound, "not_found", "error.round_unknown"},
	{models.ErrAlreadyAssigns, fiber.StatusConflict, "already_assigned", "error.already_assigned"},
	{models.ErrReleased, fiber.StatusConflict, "released", "error.released"},
	{models.ErrRoundLocked, fiber.StatusConflict, "scores_locked", "error.scores_locked"},
	{models.ErrConflicted, fiber.StatusConflict, "conflict_of_interest", "error.conflicted"},
	{models.ErrNotJudge, fiber.StatusUnprocessableEntity, "not_a_judge", "error.not_judge"},
	{models.ErrNotOnPanel, fiber.StatusUnprocessableEntity, "not_on_panel", "error.not_on_panel"},
	{models.ErrBadLogin, fiber.StatusUnauthorized, "invalid_credentials", "error.bad_login"},
	{models.ErrDisabled, fiber.StatusUnauthorized, "invalid_credentials", "error.bad_login"},
	{models.ErrUnauthorized, fiber.StatusUnauthorized, "unauthorized", "error.unauthorized"},
	{models.ErrForbidden, fiber.StatusForbidden, "forbidden", "error.forbidden"},
	{models.ErrThrottled, fiber.StatusTooManyRequests, "too_many_attempts", "error.throttled"},
	{models.ErrResetGone, fiber.StatusGone, "reset_gone", "error.reset_gone"},
	{models.ErrUnavailable, fiber.StatusServiceUnavailable, "unavailable", "error.unavailable"},
}

func matchSentinel(err error) *sentinel {
	for i := range sentinels {
		if errors.Is(err, sentinels[i].err) {
			return &sentinels[i]
		}
	}
	return nil
}

func simple(status int, code, key string, tr *views.Translator) Problem {
	return Problem{Status: status, Code: code, Message: tr.T(key)}
}
