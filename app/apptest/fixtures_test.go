package apptest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest/decks"
)

// TestFixtures: Fixture returns the generated deck and FixturePath an
// absolute path to a file of the same name and bytes, which stays right
// when the working directory changes (as the embedded S3 server changes
// it).
func TestFixtures(t *testing.T) {
	want, err := decks.Bytes(decks.ValidPDF)
	if err != nil {
		t.Fatal(err)
	}
	if got := Fixture(t, decks.ValidPDF); !bytes.Equal(got, want) {
		t.Fatalf("Fixture: %d bytes, want the %d of the generated deck", len(got), len(want))
	}
	t.Chdir(t.TempDir())
	for _, name := range []string{decks.ValidPDF, decks.PNGRenamed} {
		p := FixturePath(t, name)
		if !filepath.IsAbs(p) || filepath.Base(p) != name {
			t.Fatalf("FixturePath(%s) = %q", name, p)
		}
		t.Chdir(t.TempDir())
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, Fixture(t, name)) {
			t.Fatalf("%s: %d bytes (%v), want the generated deck", p, len(b), err)
		}
	}
}
