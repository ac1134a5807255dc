package uploads

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest/decks"
)

// verdict is what Verify says of a file, in comparable form.
type verdict struct {
	Kind  Kind
	Found string // *UnsupportedTypeError.Found
	Cap   string // *ZipBombError.Cap
	Entry string // *ZipBombError.Entry
	Other string // any other error
}

func verdictOf(b []byte) verdict {
	kind, err := Verify(bytes.NewReader(b), int64(len(b)), DefaultLimits())
	v := verdict{Kind: kind}
	var ute *UnsupportedTypeError
	var zbe *ZipBombError
	switch {
	case errors.As(err, &ute):
		v.Found = ute.Found
	case errors.As(err, &zbe):
		v.Cap, v.Entry = zbe.Cap, zbe.Entry
	case err != nil:
		v.Other = err.Error()
	}
	return v
}

// TestSampleDecks: every deck the tests use is accepted or refused by
// Verify for the reason its name gives. The table must cover every deck
// the decks package makes.
func TestSampleDecks(t *testing.T) {
	want := map[string]verdict{
		decks.ValidPDF:         {Kind: KindPDF},
		decks.ValidPPTX:        {Kind: KindPPTX},
		decks.ExeRenamed:       {Found: "Windows executable"},
		decks.HTMLRenamed:      {Found: "HTML document"},
		decks.PNGRenamed:       {Found: "PNG image"},
		decks.ZIPRenamed:       {Found: "ZIP archive"},
		decks.DOCXRenamed:      {Found: "Word document (DOCX)"},
		decks.PPTMRenamed:      {Found: "macro-enabled presentation (PPTM)"},
		decks.ODPRenamed:       {Found: "OpenDocument presentation (ODP)"},
		decks.ZipBomb:          {Cap: CapTotalUncompressed, Entry: "ppt/media/image1.png"},
		decks.ZipBombEntries:   {Cap: CapEntries},
		decks.ZipBombTotal:     {Cap: CapTotalUncompressed, Entry: "ppt/media/image20.png"},
		decks.ZipBombDeclared:  {Cap: CapDeclaredSize, Entry: "[Content_Types].xml"},
		decks.PolyglotHTML:     {Found: "HTML document"},
		decks.PolyglotPrefixed: {Found: "PDF with data before its header"},
		decks.Encrypted:        {Found: "legacy PowerPoint (PPT)/OLE file"},
		decks.TruncatedPPTX:    {Found: "damaged ZIP archive"},
	}
	for _, name := range decks.Names() {
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for the sample deck %s: add one", name)
			}
			if got := verdictOf(readFixture(t, name)); got != w {
				t.Errorf("Verify: %+v, want %+v", got, w)
			}
		})
	}
	for name := range want {
		if !slices.Contains(decks.Names(), name) {
			t.Errorf("%s is expected but not made", name)
		}
	}
}

// TestSharedCorpus compares the generated decks with the sample decks kept
// in shared/fixtures/decks, when that directory is above the working
// directory (developers' machines, CI): each shared file must have a
// generated namesake that Verify judges the same way, so that the
// generated decks are what the shared ones were. A fresh clone has no such
// directory; the test then has nothing to compare and passes, saying so,
// rather than skipping: the generated decks, not this extra corpus, are
// what the other tests use, and a skip would only hide that nothing was
// compared among skips that matter.
func TestSharedCorpus(t *testing.T) {
	if decks.SharedCorpus == "" {
		t.Log("no shared/fixtures/decks above the working directory: nothing to compare")
		return
	}
	files, err := os.ReadDir(decks.SharedCorpus)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, f := range files {
		if f.IsDir() || filepath.Ext(f.Name()) != ".pdf" && filepath.Ext(f.Name()) != ".pptx" {
			continue
		}
		t.Run(f.Name(), func(t *testing.T) {
			shared, err := os.ReadFile(filepath.Join(decks.SharedCorpus, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			generated, err := decks.Bytes(f.Name())
			if err != nil {
				t.Fatalf("the shared corpus has %s, which package decks does not make: %v", f.Name(), err)
			}
			if g, s := verdictOf(generated), verdictOf(shared); g != s {
				t.Errorf("generated: %+v; shared: %+v", g, s)
			}
		})
		compared++
	}
	t.Logf("compared %d shared decks with their generated namesakes", compared)
}
