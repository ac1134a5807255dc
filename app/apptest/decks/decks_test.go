package decks

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"debug/pe"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"image/png"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func mustBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := Bytes(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeterministic: every deck is the same bytes however often it is built.
func TestDeterministic(t *testing.T) {
	for _, name := range Names() {
		a, b := builders[name](), builders[name]()
		if !bytes.Equal(a, b) || !bytes.Equal(a, mustBytes(t, name)) {
			t.Errorf("%s: two builds differ", name)
		}
	}
	if _, err := Bytes("nope.pdf"); err == nil {
		t.Error("Bytes of an unknown name: no error")
	}
}

// TestBytesIsACopy: a caller changing its bytes does not change the next
// caller's.
func TestBytesIsACopy(t *testing.T) {
	a := mustBytes(t, HTMLRenamed)
	a[0] = 'X'
	if b := mustBytes(t, HTMLRenamed); b[0] != '<' {
		t.Fatalf("the cached deck changed: %q", b[:10])
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p, err := Write(dir, ValidPDF)
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(p) || filepath.Base(p) != ValidPDF {
		t.Errorf("path %q", p)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, mustBytes(t, ValidPDF)) {
		t.Errorf("file holds %d bytes (%v), want the deck", len(got), err)
	}
}

func TestCRCZeros(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 257, 258, 259, 1000, 65536, 1<<20 + 3} {
		if got, want := crcZeros(n), crc32.ChecksumIEEE(make([]byte, n)); got != want {
			t.Errorf("crcZeros(%d) = %08x, want %08x", n, got, want)
		}
	}
}

func TestDeflateZeros(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 258, 259, 260, 516, 517, 1000, 10<<20 + 7} {
		z := deflateZeros(n)
		got, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
		if err != nil {
			t.Fatalf("inflate %d: %v", n, err)
		}
		if int64(len(got)) != n || !bytes.Equal(got, make([]byte, n)) {
			t.Fatalf("deflateZeros(%d) inflates to %d bytes", n, len(got))
		}
		if n > 1<<20 && int64(len(z)) > n/1000 {
			t.Errorf("deflateZeros(%d): %d bytes, want the ~1032:1 ratio", n, len(z))
		}
	}
}

// TestValidPDF: the header, one page object per slide in a page tree of
// that count, every stream's /Length exact, and a cross-reference table
// whose every entry is the offset of its object, found through startxref.
func TestValidPDF(t *testing.T) {
	b := mustBytes(t, ValidPDF)
	checkPDF(t, b)
}

func checkPDF(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.7\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatalf("header %q, tail %q", b[:9], b[len(b)-6:])
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d points at %q", xref, b[xref:min(len(b), xref+10)])
	}
	lines := strings.SplitAfter(string(b[xref:]), "\n")
	var count int
	if _, err := strconvFields(lines[1], &count); err != nil {
		t.Fatalf("subsection %q: %v", lines[1], err)
	}
	for i := range count {
		e := lines[2+i]
		if len(e) != 20 {
			t.Fatalf("xref entry %q is %d bytes, want 20", e, len(e))
		}
		if i == 0 {
			if e != "0000000000 65535 f\r\n" {
				t.Errorf("entry 0 %q", e)
			}
			continue
		}
		off, _ := strconv.Atoi(e[:10])
		if want := strconv.Itoa(i) + " 0 obj\n"; !bytes.HasPrefix(b[off:], []byte(want)) || e[17] != 'n' {
			t.Errorf("entry %d %q points at %q", i, e, b[off:min(len(b), off+12)])
		}
	}
	if !strings.HasPrefix(lines[2+count], "trailer\n") || !strings.Contains(string(b[xref:]), "/Size "+strconv.Itoa(count)+" /Root 1 0 R") {
		t.Errorf("trailer: %q", lines[2+count:])
	}
	if n := bytes.Count(b, []byte("/Type /Page ")); n != len(slides) {
		t.Errorf("%d page objects, want %d", n, len(slides))
	}
	for _, s := range slides {
		if !bytes.Contains(b, []byte("("+s.asciiTitle+") Tj")) || !bytes.Contains(b, []byte("("+s.asciiBody+") Tj")) {
			t.Errorf("no page shows %q", s.asciiTitle)
		}
	}
	if !bytes.Contains(b, []byte("/Count "+strconv.Itoa(len(slides))+" >>")) {
		t.Error("page tree count")
	}
	for _, s := range regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n(.*?)endstream`).FindAllSubmatch(b, -1) {
		if n, _ := strconv.Atoi(string(s[1])); n != len(s[2]) {
			t.Errorf("stream /Length %d, holds %d bytes", n, len(s[2]))
		}
	}
}

func strconvFields(line string, count *int) (int, error) {
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "0" {
		return 0, errors.New("not 0 N")
	}
	n, err := strconv.Atoi(f[1])
	*count = n
	return n, err
}

// pkg is an opened OOXML package.
type pkg struct {
	files map[string]*zip.File
	zr    *zip.Reader
}

func openZip(t *testing.T, b []byte) *pkg {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	p := &pkg{files: map[string]*zip.File{}, zr: zr}
	for _, f := range zr.File {
		if p.files[f.Name] != nil {
			t.Fatalf("duplicate entry %s", f.Name)
		}
		p.files[f.Name] = f
	}
	return p
}

func (p *pkg) read(t *testing.T, name string) []byte {
	t.Helper()
	f := p.files[name]
	if f == nil {
		t.Fatalf("no part %s", name)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// wellFormed decodes every token of an XML part.
func wellFormed(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

type ctTypes struct {
	Defaults []struct {
		Extension   string `xml:"Extension,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Default"`
	Overrides []struct {
		PartName    string `xml:"PartName,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Override"`
}

type relList struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// checkOPC: the package's XML parts are well-formed; every part has a
// content type and every override names a part; every relationship's
// target exists. It returns the content types by part name and the main
// part's name.
func checkOPC(t *testing.T, p *pkg) (map[string]string, string) {
	t.Helper()
	var types ctTypes
	if err := xml.Unmarshal(p.read(t, "[Content_Types].xml"), &types); err != nil {
		t.Fatal(err)
	}
	byPart := map[string]string{}
	for _, o := range types.Overrides {
		name := strings.TrimPrefix(o.PartName, "/")
		if p.files[name] == nil {
			t.Errorf("override for missing part %s", o.PartName)
		}
		byPart[name] = o.ContentType
	}
	for name := range p.files {
		if name == "[Content_Types].xml" || byPart[name] != "" {
			continue
		}
		for _, d := range types.Defaults {
			if strings.EqualFold("."+d.Extension, path.Ext(name)) {
				byPart[name] = d.ContentType
			}
		}
		if byPart[name] == "" {
			t.Errorf("part %s has no content type", name)
		}
	}
	main := ""
	for name := range p.files {
		if strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
			wellFormed(t, name, p.read(t, name))
		}
		if !strings.HasSuffix(name, ".rels") {
			continue
		}
		var rl relList
		if err := xml.Unmarshal(p.read(t, name), &rl); err != nil {
			t.Fatal(err)
		}
		// a/b/_rels/c.xml.rels describes a/b/c.xml; targets are relative to a/b.
		base := path.Dir(path.Dir(name))
		ids := map[string]bool{}
		for _, r := range rl.Rels {
			if ids[r.ID] {
				t.Errorf("%s: duplicate Id %s", name, r.ID)
			}
			ids[r.ID] = true
			target := path.Clean(path.Join(base, r.Target))
			if p.files[target] == nil {
				t.Errorf("%s: %s targets missing %s", name, r.ID, target)
			}
			if name == "_rels/.rels" && strings.HasSuffix(r.Type, "/officeDocument") {
				main = target
			}
		}
	}
	if main == "" {
		t.Fatal("no officeDocument relationship")
	}
	return byPart, main
}

// TestValidPPTX: a well-formed package whose main part is a presentation
// listing one slide per slide (each related, with its text), one master
// with its layout, and a theme; no macros.
func TestValidPPTX(t *testing.T) {
	p := openZip(t, mustBytes(t, ValidPPTX))
	types, main := checkOPC(t, p)
	if main != "ppt/presentation.xml" || types[main] != ctPres {
		t.Fatalf("main part %s of type %q", main, types[main])
	}
	pres := string(p.read(t, main))
	if n := strings.Count(pres, "<p:sldId "); n != len(slides) {
		t.Errorf("presentation lists %d slides, want %d", n, len(slides))
	}
	var rl relList
	if err := xml.Unmarshal(p.read(t, "ppt/_rels/presentation.xml.rels"), &rl); err != nil {
		t.Fatal(err)
	}
	rels := map[string]string{}
	for _, r := range rl.Rels {
		rels[r.ID] = r.Target
	}
	for i, id := range regexp.MustCompile(`<p:sldId id="\d+" r:id="(rId\d+)"/>`).FindAllStringSubmatch(pres, -1) {
		target := "ppt/" + rels[id[1]]
		if types[target] != ctOffice+"presentationml.slide+xml" {
			t.Errorf("slide %d: %s (%q)", i+1, target, types[target])
			continue
		}
		if s := string(p.read(t, target)); !strings.Contains(s, slides[i].title) || !strings.Contains(s, slides[i].body) {
			t.Errorf("slide %d lacks its text", i+1)
		}
	}
	for _, part := range []string{"ppt/slideMasters/slideMaster1.xml", "ppt/slideLayouts/slideLayout1.xml", "ppt/theme/theme1.xml"} {
		if types[part] == "" {
			t.Errorf("no %s", part)
		}
	}
	for name, ct := range types {
		if strings.Contains(strings.ToLower(ct), "vba") || strings.Contains(strings.ToLower(ct), "macro") || path.Base(name) == "vbaProject.bin" {
			t.Errorf("macro part %s (%s)", name, ct)
		}
	}
}

// TestPPTM: the valid deck, macro-enabled: the main part's type says so and
// a VBA project (a compound file) is related and typed.
func TestPPTM(t *testing.T) {
	p := openZip(t, mustBytes(t, PPTMRenamed))
	types, main := checkOPC(t, p)
	if types[main] != ctPresMac || types["ppt/vbaProject.bin"] != ctVBA {
		t.Fatalf("main type %q, VBA type %q", types[main], types["ppt/vbaProject.bin"])
	}
	if !bytes.HasPrefix(p.read(t, "ppt/vbaProject.bin"), []byte("\xd0\xcf\x11\xe0")) {
		t.Error("vbaProject.bin is not a compound file")
	}
	if !bytes.Contains(p.read(t, "ppt/_rels/presentation.xml.rels"), []byte("vbaProject")) {
		t.Error("vbaProject.bin is not related")
	}
}

func TestDOCX(t *testing.T) {
	p := openZip(t, mustBytes(t, DOCXRenamed))
	types, main := checkOPC(t, p)
	if main != "word/document.xml" || types[main] != ctDocx {
		t.Fatalf("main part %s of type %q", main, types[main])
	}
}

// TestODP: the mimetype entry comes first, stored, without extra field;
// the manifest names the type; content.xml is well-formed.
func TestODP(t *testing.T) {
	p := openZip(t, mustBytes(t, ODPRenamed))
	first := p.zr.File[0]
	if first.Name != "mimetype" || first.Method != zip.Store || len(first.Extra) != 0 {
		t.Fatalf("first entry %s, method %d, extra %d bytes", first.Name, first.Method, len(first.Extra))
	}
	if got := string(p.read(t, "mimetype")); got != "application/vnd.oasis.opendocument.presentation" {
		t.Fatalf("mimetype %q", got)
	}
	for _, name := range []string{"META-INF/manifest.xml", "content.xml", "styles.xml"} {
		wellFormed(t, name, p.read(t, name))
	}
	if p.files["[Content_Types].xml"] != nil {
		t.Error("an ODP with OOXML content types")
	}
}

func TestPlainZIP(t *testing.T) {
	p := openZip(t, mustBytes(t, ZIPRenamed))
	if len(p.zr.File) != 1 || p.files["notes.txt"] == nil {
		t.Fatalf("entries %v", p.zr.File)
	}
}

// TestZipBomb: the valid deck plus ppt/media/image1.png, honestly declared
// as 2 GiB and really inflating to 2 GiB of zeros (archive/zip checks the
// size and CRC-32 as it reads), from about 2 MB.
func TestZipBomb(t *testing.T) {
	b := mustBytes(t, ZipBomb)
	if len(b) > 3<<20 {
		t.Errorf("%d bytes, want about 2 MB", len(b))
	}
	p := openZip(t, b)
	f := p.zr.File[len(p.zr.File)-1]
	if f.Name != "ppt/media/image1.png" || f.UncompressedSize64 != 2<<30 || f.CompressedSize64 > 2200_000 {
		t.Fatalf("last entry %s: %d → %d bytes", f.Name, f.CompressedSize64, f.UncompressedSize64)
	}
	checkZeros(t, f)
	// Apart from the bomb, the valid deck.
	if len(p.zr.File) != len(openZip(t, mustBytes(t, ValidPPTX)).zr.File)+1 {
		t.Errorf("%d entries", len(p.zr.File))
	}
}

// checkZeros reads f to the end through archive/zip, which fails on a size
// or CRC-32 mismatch, and checks every byte is zero.
func checkZeros(t *testing.T, f *zip.File) {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1<<20)
	var n uint64
	for {
		k, err := rc.Read(buf)
		for _, c := range buf[:k] {
			if c != 0 {
				t.Fatalf("%s: non-zero byte at %d", f.Name, n)
			}
		}
		n += uint64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s after %d bytes: %v", f.Name, n, err)
		}
	}
	if n != f.UncompressedSize64 {
		t.Fatalf("%s: %d bytes, declared %d", f.Name, n, f.UncompressedSize64)
	}
}

// TestZipBombTotal: 24 honest entries of 10 MiB each, 240 MiB in all.
func TestZipBombTotal(t *testing.T) {
	p := openZip(t, mustBytes(t, ZipBombTotal))
	var total uint64
	images := 0
	for _, f := range p.zr.File {
		total += f.UncompressedSize64
		if strings.HasPrefix(f.Name, "ppt/media/image") {
			images++
			if f.UncompressedSize64 != 10<<20 {
				t.Fatalf("%s declares %d bytes", f.Name, f.UncompressedSize64)
			}
			checkZeros(t, f)
		}
	}
	if images != 24 || total < 240<<20 {
		t.Fatalf("%d images, %d bytes in all", images, total)
	}
	checkOPC(t, p)
}

func TestZipBombEntries(t *testing.T) {
	p := openZip(t, mustBytes(t, ZipBombEntries))
	if n, base := len(p.zr.File), len(openZip(t, mustBytes(t, ValidPPTX)).zr.File); n != base+4096 {
		t.Fatalf("%d entries, want %d", n, base+4096)
	}
	checkOPC(t, p)
}

// TestZipBombDeclared: [Content_Types].xml inflates past its declared size,
// which archive/zip reports as a format error.
func TestZipBombDeclared(t *testing.T) {
	p := openZip(t, mustBytes(t, ZipBombDeclared))
	rc, err := p.files["[Content_Types].xml"].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, zip.ErrFormat) {
		t.Fatalf("reading past the declared size: %v, want zip.ErrFormat", err)
	}
}

func TestPNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(mustBytes(t, PNGRenamed)))
	if err != nil || img.Bounds().Dx() != 1 || img.Bounds().Dy() != 1 {
		t.Fatalf("decode: %v", err)
	}
}

func TestExecutable(t *testing.T) {
	f, err := pe.NewFile(bytes.NewReader(mustBytes(t, ExeRenamed)))
	if err != nil {
		t.Fatal(err)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || oh.Magic != 0x20b || oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
		t.Errorf("optional header %#v", f.OptionalHeader)
	}
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
		t.Fatalf("machine %#x, characteristics %#x", f.Machine, f.Characteristics)
	}
}

// TestPolyglots: each is its prefix followed by the whole valid PDF.
func TestPolyglots(t *testing.T) {
	pdf := mustBytes(t, ValidPDF)
	for name, prefix := range map[string]string{PolyglotHTML: htmlPage + "\n", PolyglotPrefixed: "junk\n"} {
		b := mustBytes(t, name)
		if !bytes.HasPrefix(b, []byte(prefix)) || !bytes.Equal(b[len(prefix):], pdf) {
			t.Errorf("%s is not %q + the valid PDF", name, prefix)
		}
	}
	if !strings.HasPrefix(htmlPage, "<!DOCTYPE html><html>") || !strings.Contains(htmlPage, "<script>") {
		t.Errorf("html page %q", htmlPage)
	}
}

// TestEncrypted: a compound file header (magic, version 3, 512-byte
// sectors, FAT at sector 0, directory at sector 1) whose directory holds
// the two streams of an encrypted Office package.
func TestEncrypted(t *testing.T) {
	b := mustBytes(t, Encrypted)
	if len(b) != 3*512 || !bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")) || b[0x1a] != 3 || b[0x1e] != 9 {
		t.Fatalf("header % x", b[:32])
	}
	dir := b[1024:]
	for i, want := range []string{"Root Entry", "EncryptionInfo", "EncryptedPackage"} {
		e := dir[128*i:]
		n := int(e[64]) | int(e[65])<<8
		var name []rune
		for j := 0; j+2 < n; j += 2 {
			name = append(name, rune(e[j])|rune(e[j+1])<<8)
		}
		if string(name) != want {
			t.Errorf("directory entry %d: %q, want %q", i, string(name), want)
		}
	}
}

func TestTruncated(t *testing.T) {
	b, full := mustBytes(t, TruncatedPPTX), mustBytes(t, ValidPPTX)
	if !bytes.HasPrefix(full, b) || len(b) != len(full)/2 {
		t.Fatal("not the first half of the valid deck")
	}
	if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
		t.Fatal("the truncated deck opens as a ZIP")
	}
}
