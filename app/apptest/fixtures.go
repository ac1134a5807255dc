package apptest

import (
	"os"
	"path/filepath"
	"testing"
)

// fixturesDir is shared/fixtures/decks, found by walking up from the
// working directory at package init: before any test starts the embedded S3
// server, which changes the working directory.
var fixturesDir = func() string {
	wd, _ := os.Getwd()
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "fixtures", "decks")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}()

// FixturePath returns the absolute path of the sample deck name in
// shared/fixtures/decks. Without the fixtures the test is skipped, or fails
// under CI=true.
func FixturePath(t testing.TB, name string) string {
	t.Helper()
	if fixturesDir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("shared/fixtures/decks not found")
		}
		t.Skip("shared/fixtures/decks not found")
	}
	p, err := filepath.Abs(filepath.Join(fixturesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Fixture returns the bytes of the sample deck name (see FixturePath).
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(FixturePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
