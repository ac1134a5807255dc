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
	switch {
	case errors.As(err, &he):
		return Problem{Status: he.Status, Code: he.Code, Message: tr.T(he.Key, he.Args...), Fields: he.Fields}
	case errors.As(err, &rules):
		return Problem{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
			Message: tr.T("error.validation_failed"), Fields: ruleMessages(rules, tr, nil)}
	case errors.As(err, &rule):
		return Problem{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
			Message: tr.T("error.validation_failed"), Fields: ruleMessages(models.RuleErrors{rule}, tr, nil)}
	case errors.Is(err, models.ErrNotFound):
		return simple(fiber.StatusNotFound, "not_found", "error.not_found", tr)
	case errors.Is(err, models.ErrEmailTaken):
		p := simple(fiber.StatusConflict, "email_taken", "error.email_taken", tr)
		p.Fields = map[string]string{"email": p.Message}
		return p
	case errors.Is(err, models.ErrStale):
		return simple(fiber.StatusConflict, "stale", "error.stale", tr)
	case errors.Is(err, models.ErrNotEditable):
		return simple(fiber.StatusConflict, "not_editable", "error.not_editable", tr)
	case errors.Is(err, models.ErrDeadlinePassed):
		return simple(fiber.StatusConflict, "deadline_passed", "error.deadline_passed", tr)
	case errors.Is(err, models.ErrAlreadyLeads):
		return simple(fiber.StatusConflict, "already_leads", "error.already_leads", tr)
	case errors.Is(err, models.ErrNotOpen):
		return simple(fiber.StatusConflict, "not_open", "error.not_open", tr)
	case errors.Is(err, models.ErrBadTransition):
		return simple(fiber.StatusConflict, "illegal_transition", "error.conflict", tr)
	case errors.Is(err, models.ErrConflict):
		return simple(fiber.StatusConflict, "conflict", "error.conflict", tr)
	case errors.Is(err, models.ErrBadLogin), errors.Is(err, models.ErrDisabled):
		return simple(fiber.StatusUnauthorized, "invalid_credentials", "error.bad_login", tr)
	case errors.Is(err, models.ErrUnauthorized):
		return simple(fiber.StatusUnauthorized, "unauthorized", "error.unauthorized", tr)
	case errors.Is(err, models.ErrForbidden):
		return simple(fiber.StatusForbidden, "forbidden", "error.forbidden", tr)
	case errors.Is(err, models.ErrThrottled):
		return simple(fiber.StatusTooManyRequests, "too_many_attempts", "error.throttled", tr)
	case errors.Is(err, models.ErrUnavailable):
		return simple(fiber.StatusServiceUnavailable, "unavailable", "error.unavailable", tr)
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

func simple(status int, code, key string, tr *views.Translator) Problem {
	return Problem{Status: status, Code: code, Message: tr.T(key)}
}
