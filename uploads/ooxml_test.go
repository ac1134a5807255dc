package uploads

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const (
	ctPPTX   = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
	ctPPTM   = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"
	ctPPSX   = "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml"
	ctPOTX   = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
	ctDOCX   = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	ctXLSX   = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	ctVBA    = "application/vnd.ms-office.vbaProject"
	ctRels   = "application/vnd.openxmlformats-package.relationships+xml"
	presBody = `<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`
)

// zipEntry is one file for buildZip.
type zipEntry struct {
	name   string
	body   string
	stored bool // default is Deflate, as Office writes
}

func buildZip(tb testing.TB, entries ...zipEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		method := zip.Deflate
		if e.stored {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// contentTypesXML writes [Content_Types].xml with the usual defaults and
// the given overrides as part name, content type pairs.
func contentTypesXML(overrides ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="` + ctRels + `"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>`)
	for i := 0; i+1 < len(overrides); i += 2 {
		fmt.Fprintf(&b, `<Override PartName="%s" ContentType="%s"/>`, overrides[i], overrides[i+1])
	}
	b.WriteString(`</Types>`)
	return b.String()
}

// relsXML writes _rels/.rels with an officeDocument relationship to each
// target.
func relsXML(targets ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, t := range targets {
		fmt.Fprintf(&b, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/>`, i+1, t)
	}
	b.WriteString(`</Relationships>`)
	return b.String()
}

// officePackage is a minimal OOXML package whose main part has mainCT.
func officePackage(mainPart, mainCT string, extra ...zipEntry) []zipEntry {
	return append([]zipEntry{
		{name: "[Content_Types].xml", body: contentTypesXML("/"+mainPart, mainCT)},
		{name: "_rels/.rels", body: relsXML(mainPart)},
		{name: mainPart, body: presBody},
	}, extra...)
}

func inspect(data []byte, lim Limits) error {
	return InspectOOXML(bytes.NewReader(data), int64(len(data)), lim)
}

// allocated returns the bytes allocated while fn runs. Tests in this
// package do not run in parallel, so the count is fn's own.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// wantBounded fails the test if fn allocates 16 MB or more in total.
func wantBounded(tb testing.TB, fn func()) {
	tb.Helper()
	const bound = 16 << 20
	n := allocated(fn)
	tb.Logf("allocated %d KiB", n>>10)
	if n >= bound {
		tb.Errorf("allocated %d bytes, want < %d", n, bound)
	}
}

func TestInspectOOXMLTypes(t *testing.T) {
	tests := []struct {
		name    string
		entries []zipEntry
		found   string // "" means accepted
	}{
		{"minimal pptx", officePackage("ppt/presentation.xml", ctPPTX), ""},
		{"main part elsewhere", officePackage("deck/main.xml", ctPPTX), ""},
		{"stored entries", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX), stored: true},
			{name: "_rels/.rels", body: relsXML("/ppt/presentation.xml"), stored: true},
			{name: "ppt/presentation.xml", body: presBody, stored: true},
		}, ""},
		{"case-insensitive part names", []zipEntry{
			{name: "[content_types].xml", body: contentTypesXML("/PPT/Presentation.XML", ctPPTX)},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
			{name: "ppt/presentation.xml", body: presBody},
		}, ""},
		{"pptm content type", officePackage("ppt/presentation.xml", ctPPTM), "macro-enabled presentation (PPTM)"},
		{"pptx with vbaProject.bin", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: "ppt/vbaProject.bin", body: "\xd0\xcf\x11\xe0"}), "macro-enabled presentation (PPTM)"},
		{"pptx with vba content type", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX, "/ppt/macros.bin", ctVBA)},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
			{name: "ppt/presentation.xml", body: presBody},
		}, "macro-enabled presentation (PPTM)"},
		{"slide show", officePackage("ppt/presentation.xml", ctPPSX), "PowerPoint slide show (PPSX)"},
		{"template", officePackage("ppt/presentation.xml", ctPOTX), "PowerPoint template (POTX)"},
		{"docx", officePackage("word/document.xml", ctDOCX), "Word document (DOCX)"},
		{"xlsx", officePackage("xl/workbook.xml", ctXLSX), "Excel workbook (XLSX)"},
		{"odp", []zipEntry{
			{name: "mimetype", body: "application/vnd.oasis.opendocument.presentation", stored: true},
			{name: "content.xml", body: "<office:document-content/>"},
			{name: "META-INF/manifest.xml", body: "<manifest:manifest/>"},
		}, "OpenDocument presentation (ODP)"},
		{"odt", []zipEntry{
			{name: "mimetype", body: "application/vnd.oasis.opendocument.text", stored: true},
			{name: "content.xml", body: "<office:document-content/>"},
		}, "OpenDocument text (ODT)"},
		{"pptx with odf mimetype", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: "mimetype", body: "application/vnd.oasis.opendocument.presentation"}), "OpenDocument presentation (ODP)"},
		{"plain zip", []zipEntry{{name: "notes.txt", body: "just a zip"}}, "ZIP archive"},
		{"jar", []zipEntry{{name: "META-INF/MANIFEST.MF", body: "Manifest-Version: 1.0"}}, "Java archive (JAR)"},
		{"no rels", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX)},
			{name: "ppt/presentation.xml", body: presBody},
		}, "damaged PowerPoint file (PPTX)"},
		{"docx without rels", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/word/document.xml", ctDOCX)},
			{name: "word/document.xml", body: "<w:document/>"},
		}, "Word document (DOCX)"},
		{"main part missing", officePackage("ppt/presentation.xml", ctPPTX)[:2], "damaged PowerPoint file (PPTX)"},
		{"rels point at a docx part", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX, "/word/document.xml", ctDOCX)},
			{name: "_rels/.rels", body: relsXML("word/document.xml")},
			{name: "ppt/presentation.xml", body: presBody},
			{name: "word/document.xml", body: "<w:document/>"},
		}, "Word document (DOCX)"},
		{"two main documents", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX, "/word/document.xml", ctDOCX)},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml", "word/document.xml")},
			{name: "ppt/presentation.xml", body: presBody},
			{name: "word/document.xml", body: "<w:document/>"},
		}, "damaged Office document"},
		{"bad content types xml", []zipEntry{
			{name: "[Content_Types].xml", body: "<Types><Override"},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
		}, "damaged Office document"},
		{"content types with another root", []zipEntry{
			{name: "[Content_Types].xml", body: `<html><Override PartName="/ppt/presentation.xml" ContentType="` + ctPPTX + `"/></html>`},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
			{name: "ppt/presentation.xml", body: presBody},
		}, "damaged Office document"},
		{"entity expansion attempt", []zipEntry{
			{name: "[Content_Types].xml", body: `<!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Types><Override PartName="/ppt/presentation.xml" ContentType="&b;"/></Types>`},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
			{name: "ppt/presentation.xml", body: presBody},
		}, "damaged Office document"},
		{"duplicate content types", append(officePackage("ppt/presentation.xml", ctPPTX),
			zipEntry{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTM)}), "damaged Office document"},
		{"path traversal entry", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: "../../etc/cron.d/x", body: "* * * * * root sh"}), "ZIP archive with unsafe paths"},
		{"backslash entry", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: `ppt\..\..\x`, body: "x"}), "ZIP archive with unsafe paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := inspect(buildZip(t, tt.entries...), DefaultLimits())
			if tt.found == "" {
				if err != nil {
					t.Fatalf("InspectOOXML = %v, want nil", err)
				}
				return
			}
			wantFound(t, err, tt.found)
		})
	}
}

func TestInspectOOXMLDamaged(t *testing.T) {
	valid := buildZip(t, officePackage("ppt/presentation.xml", ctPPTX)...)
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", valid[:len(valid)/2]},
		{"no end record", valid[:len(valid)-22]},
		{"header only", []byte("PK\x03\x04")},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFound(t, inspect(tt.data, DefaultLimits()), "damaged ZIP archive")
		})
	}
}

func TestInspectOOXMLTooManyEntries(t *testing.T) {
	entries := officePackage("ppt/presentation.xml", ctPPTX)
	for i := range 10_000 {
		entries = append(entries, zipEntry{name: fmt.Sprintf("ppt/media/e%05d.xml", i), stored: true})
	}
	data := buildZip(t, entries...)
	for _, lim := range []Limits{DefaultLimits(), {}} { // zero Limits fall back to the defaults
		var err error
		wantBounded(t, func() { err = inspect(data, lim) })
		zbe := wantCap(t, err, CapEntries)
		if zbe.Got != int64(len(entries)) || zbe.Limit != 2000 {
			t.Errorf("got %d > %d, want %d > 2000", zbe.Got, zbe.Limit, len(entries))
		}
	}
}

// TestInspectOOXMLHugeDirectory: a central directory far larger than
// MaxEntries allows is refused while it is being read, before archive/zip
// has allocated a record for each entry.
func TestInspectOOXMLHugeDirectory(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for range 200_000 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: "a", Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var err error
	wantBounded(t, func() { err = inspect(data, DefaultLimits()) })
	wantCap(t, err, CapDirectory)
}

func TestInspectOOXMLSizeCaps(t *testing.T) {
	// Random bytes do not compress, so only the caps under test apply.
	noise := func(n int) string {
		r := rand.New(rand.NewPCG(1, 2))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	small := Limits{MaxTotalUncompressed: 1 << 20}
	tests := []struct {
		name    string
		entries []zipEntry
		lim     Limits
		cap     string
	}{
		{"total over cap", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: "ppt/media/a.bin", body: noise(600 << 10)},
			zipEntry{name: "ppt/media/b.bin", body: noise(600 << 10)}), small, CapTotalUncompressed},
		{"ratio", officePackage("ppt/presentation.xml", ctPPTX,
			zipEntry{name: "ppt/media/zeros.bin", body: strings.Repeat("\x00", 11<<20)}), DefaultLimits(), CapRatio},
		{"content types over part cap", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX) + strings.Repeat(" ", 5<<20)},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml")},
		}, DefaultLimits(), CapPartBytes},
		{"rels over part cap", []zipEntry{
			{name: "[Content_Types].xml", body: contentTypesXML("/ppt/presentation.xml", ctPPTX)},
			{name: "_rels/.rels", body: relsXML("ppt/presentation.xml") + noise(2<<10)},
		}, Limits{MaxPartBytes: 1 << 10}, CapPartBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCap(t, inspect(buildZip(t, tt.entries...), tt.lim), tt.cap)
		})
	}
}

// whitespaceTypes is a [Content_Types].xml padded with 100 MB of spaces,
// deflated (about 100 KB), with its CRC and real size.
var whitespaceTypes = sync.OnceValues(func() ([]byte, [2]uint64) {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	crc := crc32.NewIEEE()
	w := io.MultiWriter(fw, crc)
	head := `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`
	io.WriteString(w, head)
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for range 100 {
		w.Write(spaces)
	}
	tail := `<Override PartName="/ppt/presentation.xml" ContentType="` + ctPPTX + `"/></Types>`
	io.WriteString(w, tail)
	fw.Close()
	return buf.Bytes(), [2]uint64{uint64(crc.Sum32()), uint64(len(head) + 100<<20 + len(tail))}
})

// rawZip writes [Content_Types].xml from pre-deflated data, declaring
// declared as its uncompressed size (the truth or a lie), plus a .rels
// and a main part.
func rawZip(tb testing.TB, deflated []byte, crc uint32, declared uint64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "[Content_Types].xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(deflated)), UncompressedSize64: declared,
	})
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(deflated)
	for _, e := range officePackage("ppt/presentation.xml", ctPPTX)[1:] {
		w, _ := zw.Create(e.name)
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestInspectOOXMLWhitespaceBomb(t *testing.T) {
	deflated, meta := whitespaceTypes()
	crc, real := uint32(meta[0]), meta[1]
	tests := []struct {
		name     string
		declared uint64
		caps     []string
	}{
		// Honest: refused from the directory alone.
		{"declared honestly", real, []string{CapRatio, CapPartBytes}},
		// Lies small: the directory checks pass, reading stops just
		// past the declared size.
		{"declared 1 KiB", 1 << 10, []string{CapDeclaredSize}},
		{"declared just under the part cap", 4<<20 - 1, []string{CapDeclaredSize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rawZip(t, deflated, crc, tt.declared)
			var err error
			wantBounded(t, func() { err = inspect(data, DefaultLimits()) })
			wantCap(t, err, tt.caps...)
		})
	}
}

// TestInspectOOXMLDeclaredSizeMatters: the same content with a truthful
// small size is accepted, so the rejections above are about the lie.
func TestInspectOOXMLDeclaredSizeMatters(t *testing.T) {
	body := []byte(contentTypesXML("/ppt/presentation.xml", ctPPTX))
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write(body)
	fw.Close()
	if err := inspect(rawZip(t, buf.Bytes(), crc32.ChecksumIEEE(body), uint64(len(body))), DefaultLimits()); err != nil {
		t.Fatalf("truthful sizes: %v", err)
	}
	err := inspect(rawZip(t, buf.Bytes(), crc32.ChecksumIEEE(body), uint64(len(body)-1)), DefaultLimits())
	wantCap(t, err, CapDeclaredSize)
}

func TestInspectOOXMLZipBombFixtureMemory(t *testing.T) {
	b := readFixture(t, "zipbomb.pptx")
	var err error
	wantBounded(t, func() { err = InspectOOXML(bytes.NewReader(b), int64(len(b)), DefaultLimits()) })
	zbe := wantCap(t, err, CapTotalUncompressed, CapRatio)
	if zbe.Entry != "ppt/media/image1.png" {
		t.Errorf("entry = %q, want the 2 GiB image", zbe.Entry)
	}
}

// FuzzInspectOOXML: whatever the bytes, InspectOOXML returns nil or one of
// its two typed errors, within the memory the caps allow, without panicking.
func FuzzInspectOOXML(f *testing.F) {
	seeds := [][]zipEntry{
		officePackage("ppt/presentation.xml", ctPPTX),
		officePackage("ppt/presentation.xml", ctPPTM),
		officePackage("word/document.xml", ctDOCX),
		{{name: "mimetype", body: "application/vnd.oasis.opendocument.presentation", stored: true}},
		{{name: "notes.txt", body: "x"}},
	}
	for _, s := range seeds {
		f.Add(buildZip(f, s...))
	}
	// Small caps keep each run fast; the checks are the same.
	lim := Limits{MaxEntries: 50, MaxTotalUncompressed: 1 << 20, MaxPartBytes: 64 << 10, RatioMinSize: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := inspect(data, lim)
		var ute *UnsupportedTypeError
		var zbe *ZipBombError
		if err != nil && !errors.As(err, &ute) && !errors.As(err, &zbe) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if ute != nil && ute.Found == "" {
			t.Fatalf("unsupported type without a name: %v", err)
		}
	})
}
