package apptest

import (
	"testing"

	"github.com/sprout-vn/sprout/app/apptest/decks"
)

// FixturePath writes the sample deck name (one of the decks package's
// names, such as decks.ValidPDF) into a temporary directory of the test's
// own and returns its absolute path, for tests that hand a file to another
// program (the browser's file chooser).
func FixturePath(t testing.TB, name string) string {
	t.Helper()
	p, err := decks.Write(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Fixture returns the bytes of the sample deck name, made by package decks:
// the tests carry their own decks and need nothing outside the repository.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := decks.Bytes(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
