// Package uploads holds the parts of deck uploads that need neither network
// nor storage: content sniffing, OOXML inspection, filename cleaning and
// bounded streaming of multipart bodies.
//
// Errors are typed so that the one place that maps errors to HTTP can do so
// without parsing strings:
//
//	ErrTooLarge (and *TooLargeError)    → 413 Payload Too Large
//	*ZipBombError                       → 413 Payload Too Large
//	*UnsupportedTypeError               → 415 Unsupported Media Type
//	ErrNoFile, ErrBadMultipart          → 400 Bad Request
//
// A zip bomb maps to 413 rather than 415 because every cap it can hit is a
// size cap (entries, bytes, ratio): an honest applicant who embedded a huge
// video learns "too large", which is true and tells them what to fix, whereas
// "unsupported type" would send them looking for a format problem.
package uploads

import (
	"errors"
	"fmt"
)

// ErrTooLarge matches, via errors.Is, every *TooLargeError. Map it to 413.
var ErrTooLarge = errors.New("uploads: too large")

// TooLargeError reports that a body, field or file went over Limit bytes.
// errors.Is(err, ErrTooLarge) is true for it.
type TooLargeError struct {
	// Limit is the number of bytes that was allowed.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("uploads: too large: more than %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) work without callers knowing the type.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ErrUnsupportedType matches, via errors.Is, every *UnsupportedTypeError.
var ErrUnsupportedType = errors.New("uploads: unsupported file type")

// UnsupportedTypeError reports content that is neither a PDF nor a PPTX. Map
// it to 415.
type UnsupportedTypeError struct {
	// Found names what the content actually is, in plain English fit to show
	// to the applicant ("Windows executable", "Word document (DOCX)").
	Found string
	// Err is the underlying cause when there is one (a ZIP or XML parse
	// error); it is for logs, not for users.
	Err error
}

func (e *UnsupportedTypeError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("uploads: unsupported file type: %s: %v", e.Found, e.Err)
	}
	return "uploads: unsupported file type: " + e.Found
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *UnsupportedTypeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnsupportedType) work.
func (e *UnsupportedTypeError) Is(target error) bool { return target == ErrUnsupportedType }

// Names of the caps a ZipBombError can report.
const (
	CapEntries           = "entry count"
	CapDirectory         = "central directory size"
	CapTotalUncompressed = "total uncompressed size"
	CapRatio             = "compression ratio"
	CapPartBytes         = "part size"
	CapDeclaredSize      = "declared size"
)

// ZipBombError reports an archive that would expand past one of the Limits.
// It is returned before the offending data is decompressed, or, for
// CapDeclaredSize, as soon as reading passes the declared size. Map
// it to 413 (see the package comment for why not 415).
type ZipBombError struct {
	// Cap is one of the Cap* constants.
	Cap string
	// Entry is the archive entry that hit the cap, if one did.
	Entry string
	// Limit is the cap's value; Got is what the archive declared or produced
	// (at least Limit+1 when reading was stopped early).
	Limit, Got int64
}

func (e *ZipBombError) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("uploads: archive over the %s cap: entry %q: %d > %d", e.Cap, e.Entry, e.Got, e.Limit)
	}
	return fmt.Sprintf("uploads: archive over the %s cap: %d > %d", e.Cap, e.Got, e.Limit)
}

// ErrNoFile means the multipart body ended without the expected file field.
// Map it to 400.
var ErrNoFile = errors.New("uploads: no file in the form")

// ErrBadMultipart means the body is not a well-formed multipart/form-data
// body (missing boundary, wrong media type, broken framing, too many parts).
// It is wrapped with details; map it to 400.
var ErrBadMultipart = errors.New("uploads: malformed multipart body")
