package uploads

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest/decks"
)

// readFixture returns the sample deck name, made by package decks, so
// that the tests need nothing outside the repository.
func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := decks.Bytes(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// wantFound asserts err is an *UnsupportedTypeError naming found.
func wantFound(tb testing.TB, err error, found string) {
	tb.Helper()
	var ute *UnsupportedTypeError
	if !errors.As(err, &ute) {
		tb.Fatalf("err = %v (%T), want *UnsupportedTypeError{Found: %q}", err, err, found)
	}
	if ute.Found != found {
		tb.Fatalf("Found = %q, want %q (err: %v)", ute.Found, found, err)
	}
}

// wantCap asserts err is a *ZipBombError for one of caps.
func wantCap(tb testing.TB, err error, caps ...string) *ZipBombError {
	tb.Helper()
	var zbe *ZipBombError
	if !errors.As(err, &zbe) {
		tb.Fatalf("err = %v (%T), want *ZipBombError for %v", err, err, caps)
	}
	for _, c := range caps {
		if zbe.Cap == c {
			return zbe
		}
	}
	tb.Fatalf("Cap = %q, want one of %v (err: %v)", zbe.Cap, caps, err)
	return nil
}

func TestErrorMatching(t *testing.T) {
	cause := errors.New("flate: corrupt input")
	tests := []struct {
		name    string
		err     error
		is      error
		message string
	}{
		{"too large wrapped", fmt.Errorf("handler: %w", &TooLargeError{Limit: 10}), ErrTooLarge, "more than 10 bytes"},
		{"unsupported", &UnsupportedTypeError{Found: "PNG image"}, ErrUnsupportedType, "PNG image"},
		{"unsupported cause", &UnsupportedTypeError{Found: "damaged ZIP archive", Err: cause}, cause, "corrupt input"},
		{"zip bomb", &ZipBombError{Cap: CapRatio, Entry: "a.png", Limit: 100, Got: 1000}, nil, `compression ratio cap: entry "a.png": 1000 > 100`},
		{"no file", fmt.Errorf("x: %w", ErrNoFile), ErrNoFile, "no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.is != nil && !errors.Is(tt.err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
			if !strings.Contains(tt.err.Error(), tt.message) {
				t.Errorf("Error() = %q, want it to contain %q", tt.err.Error(), tt.message)
			}
		})
	}
	if errors.Is(&UnsupportedTypeError{Found: "x"}, ErrTooLarge) {
		t.Error("an unsupported type must not look like too large")
	}
}
