// Package models holds Sprout's domain types and pure rules. It does no I/O
// and imports neither the web framework nor the database driver.
package models

import (
	"errors"
	"slices"
)

// Sentinel errors shared by every layer. Stores and rules return these
// (wrapped with context); exactly one place in the app turns them into HTTP.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrEmailTaken   = errors.New("email already registered")
	ErrBadLogin     = errors.New("invalid email or password")
	ErrDisabled     = errors.New("account disabled")
	ErrThrottled    = errors.New("too many attempts")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrUnavailable  = errors.New("service unavailable")
	ErrResetGone    = errors.New("the reset link was used or has expired")
	ErrBadPassword  = errors.New("the current password is wrong")
)

// RuleError is a business-rule failure with a message key that the UI
// translates, e.g. "error.password_common". Field names the input at fault.
// Args, when set, fills the message's template ({{.Name}} placeholders); a
// Text value stands for the text in the reader's language (see TemplateArgs).
type RuleError struct {
	Field string
	Key   string
	Args  map[string]any
}

func (e *RuleError) Error() string { return e.Field + ": " + e.Key }

// TemplateArgs returns Args as name/value pairs sorted by name, the form
// views.Translator.T takes, with every Text value replaced by its text in
// lang: tr.T(e.Key, e.TemplateArgs(tr.Lang)...). It is nil without Args.
func (e *RuleError) TemplateArgs(lang string) []any {
	if len(e.Args) == 0 {
		return nil
	}
	names := make([]string, 0, len(e.Args))
	for name := range e.Args {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]any, 0, 2*len(names))
	for _, name := range names {
		v := e.Args[name]
		if t, ok := v.(Text); ok {
			v = t.In(lang)
		}
		out = append(out, name, v)
	}
	return out
}

// RuleErrors collects several failed rules so a form can show all of them.
type RuleErrors []*RuleError

func (es RuleErrors) Error() string {
	if len(es) == 0 {
		return "no rule errors"
	}
	s := es[0].Error()
	for _, e := range es[1:] {
		s += "; " + e.Error()
	}
	return s
}

// Entry and competition errors.
var (
	ErrStale          = errors.New("someone else changed this record")
	ErrNotEditable    = errors.New("the entry is no longer a draft")
	ErrDeadlinePassed = errors.New("the deadline has passed")
	ErrAlreadyLeads   = errors.New("already leads an entry in this competition")
	ErrNotOpen        = errors.New("the competition is not open for entries")
	ErrBadTransition  = errors.New("illegal state change")
)
