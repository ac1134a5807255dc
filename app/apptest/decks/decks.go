// Package decks makes the sample decks the tests upload: a good PDF and a
// good PPTX, and files that must be refused (an executable, HTML or an image
// renamed .pdf; a plain ZIP, a Word document, an OpenDocument presentation
// or a macro-enabled presentation renamed .pptx; zip bombs by entry count,
// by total size, by one huge entry and by a lying declared size; polyglots;
// a password-protected (OLE) file; a truncated PPTX).
//
// Every file is built in Go, from the standard library alone, and the same
// bytes come out on every call, so the tests need nothing outside the
// repository. The names are those of shared/fixtures/decks where that
// corpus has the kind; uploads' tests compare the two when it is there.
//
// The package imports nothing of Sprout's, so that the tests of uploads
// (internal and external) as well as those of app and cmd/sprout can use it.
package decks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Names of the decks. The *-renamed files carry the extension of a deck but
// are something else.
const (
	ValidPDF  = "valid-deck.pdf"  // a 7-page PDF 1.7 with a cross-reference table
	ValidPPTX = "valid-deck.pptx" // the same deck as a 7-slide PowerPoint presentation

	ExeRenamed  = "exe-renamed.pdf"   // a Windows PE executable header
	HTMLRenamed = "html-renamed.pdf"  // an HTML page with a script
	PNGRenamed  = "png-renamed.pdf"   // a 1×1 PNG image
	ZIPRenamed  = "zip-renamed.pptx"  // a ZIP of one text file
	DOCXRenamed = "docx-renamed.pptx" // a Word document (OOXML, not a presentation)
	PPTMRenamed = "pptm-renamed.pptx" // ValidPPTX made macro-enabled, with a VBA project
	ODPRenamed  = "odp-renamed.pptx"  // an OpenDocument presentation

	ZipBomb         = "zipbomb.pptx"          // ValidPPTX plus ppt/media/image1.png: 2 GiB of zeros in about 2 MB
	ZipBombEntries  = "zipbomb-entries.pptx"  // ValidPPTX plus 4096 empty entries
	ZipBombTotal    = "zipbomb-total.pptx"    // ValidPPTX plus 24 images of 10 MiB of zeros each (240 MiB)
	ZipBombDeclared = "zipbomb-declared.pptx" // ValidPPTX whose [Content_Types].xml inflates to one byte more than declared

	PolyglotHTML     = "polyglot-html.pdf"     // an HTML page followed by ValidPDF
	PolyglotPrefixed = "polyglot-prefixed.pdf" // a few bytes of junk, then ValidPDF
	Encrypted        = "encrypted.pptx"        // an OLE compound file, as password-protected Office files are
	TruncatedPPTX    = "truncated.pptx"        // the first half of ValidPPTX
)

// builders makes each deck.
var builders = map[string]func() []byte{
	ValidPDF:         func() []byte { return pdfDeck() },
	ValidPPTX:        func() []byte { return pptx(pptxOptions{}) },
	ExeRenamed:       peExecutable,
	HTMLRenamed:      func() []byte { return []byte(htmlPage) },
	PNGRenamed:       pngImage,
	ZIPRenamed:       plainZIP,
	DOCXRenamed:      docx,
	PPTMRenamed:      func() []byte { return pptx(pptxOptions{macro: true}) },
	ODPRenamed:       odp,
	ZipBomb:          func() []byte { return pptx(pptxOptions{bombs: 1, bombSize: 2 << 30}) },
	ZipBombEntries:   func() []byte { return pptx(pptxOptions{padEntries: 4096}) },
	ZipBombTotal:     func() []byte { return pptx(pptxOptions{bombs: 24, bombSize: 10 << 20}) },
	ZipBombDeclared:  func() []byte { return pptx(pptxOptions{lieAboutContentTypes: true}) },
	PolyglotHTML:     func() []byte { return append([]byte(htmlPage+"\n"), pdfDeck()...) },
	PolyglotPrefixed: func() []byte { return append([]byte("junk\n"), pdfDeck()...) },
	Encrypted:        oleFile,
	TruncatedPPTX: func() []byte {
		b := pptx(pptxOptions{})
		return b[:len(b)/2]
	},
}

// Names returns every deck's name, sorted.
func Names() []string {
	names := make([]string, 0, len(builders))
	for n := range builders {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var cache sync.Map // name → func() []byte (sync.OnceValue)

// Bytes returns a copy of the deck called name, building it on first use.
func Bytes(name string) ([]byte, error) {
	build, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("decks: no sample deck %q", name)
	}
	once, _ := cache.LoadOrStore(name, sync.OnceValue(build))
	return slices.Clone(once.(func() []byte)()), nil
}

// Write writes the deck called name into dir under that name and returns
// the file's absolute path.
func Write(dir, name string) (string, error) {
	b, err := Bytes(name)
	if err != nil {
		return "", err
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", err
	}
	return p, nil
}

// htmlPage is what html-renamed.pdf holds.
const htmlPage = "<!DOCTYPE html><html><body><script>alert(document.cookie)</script>Deck</body></html>\n"

// SharedCorpus is the absolute path of shared/fixtures/decks, the sample
// decks kept beside the repository on developers' machines and CI, found
// by walking up from the working directory when the package is
// initialised (before any test can start the embedded S3 server, which
// changes the working directory); "" when there is none, as in a fresh
// clone. Only the test comparing the generated decks with that corpus
// uses it: nothing else may depend on it.
var SharedCorpus = func() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "fixtures", "decks")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}()
