package uploads

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"path"
	"strings"
)

// Limits bounds what InspectOOXML will accept from a ZIP-based upload. A
// zero or negative field means "use the DefaultLimits value", so a partly
// filled Limits can never switch a check off by accident.
type Limits struct {
	// MaxEntries caps the number of entries in the central directory.
	MaxEntries int
	// MaxTotalUncompressed caps the sum of the declared uncompressed sizes.
	MaxTotalUncompressed int64
	// MaxPartBytes caps any single part InspectOOXML decompresses and reads
	// ([Content_Types].xml, _rels/.rels, mimetype), declared and actual.
	MaxPartBytes int64
	// MaxRatio caps declared uncompressed/compressed for entries larger
	// than RatioMinSize: small XML parts legitimately compress 20-50:1, a
	// bomb's payload compresses 1000:1.
	MaxRatio int64
	// RatioMinSize exempts entries declared at or below this size from the
	// ratio check.
	RatioMinSize int64
}

// DefaultLimits returns caps with wide margins over real decks: the fixture
// deck has 49 entries and about 100 KiB uncompressed; a 200-slide deck with
// media has a few thousand entries at most.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:           2000,
		MaxTotalUncompressed: 200 << 20,
		MaxPartBytes:         4 << 20,
		MaxRatio:             100,
		RatioMinSize:         10 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxTotalUncompressed <= 0 {
		l.MaxTotalUncompressed = d.MaxTotalUncompressed
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = d.MaxPartBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioMinSize <= 0 {
		l.RatioMinSize = d.RatioMinSize
	}
	return l
}

// directoryBudget is how many bytes zip.NewReader may read while parsing the
// central directory. archive/zip allocates a *zip.File for every record it
// finds and keeps reading records to the end of the file whatever count the
// end record declares, so a 50 MB upload made of 46-byte records would cost
// hundreds of MB before we could count them. Capping the bytes it reads caps
// that memory: 128 KiB covers the end-record search (up to 65 KiB) and
// buffering, 512 bytes per allowed entry covers a name, extras and comment.
func (l Limits) directoryBudget() int64 {
	return 128<<10 + int64(l.MaxEntries)*512
}

// Content types and relationship types that decide what a package is.
const (
	ctPresentation   = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
	ctVBAProject     = "application/vnd.ms-office.vbaproject" // prefix: also …Signature, …SignatureAgile
	relOfficeDoc     = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relOfficeDocISO  = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
	foundPPTM        = "macro-enabled presentation (PPTM)"
	foundDamagedPPTX = "damaged PowerPoint file (PPTX)"
	foundDamagedOOXM = "damaged Office document"
	foundZIP         = "ZIP archive"
)

// mainTypes names the main-part content types of Office packages we reject.
var mainTypes = map[string]string{
	"application/vnd.ms-powerpoint.presentation.macroenabled.main+xml":                 foundPPTM,
	"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml":  "PowerPoint slide show (PPSX)",
	"application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml":                    "macro-enabled slide show (PPSM)",
	"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml":   "PowerPoint template (POTX)",
	"application/vnd.ms-powerpoint.template.macroenabled.main+xml":                     "macro-enabled PowerPoint template (POTM)",
	"application/vnd.ms-powerpoint.addin.macroenabled.main+xml":                        "PowerPoint add-in (PPAM)",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "Word document (DOCX)",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "Word template (DOTX)",
	"application/vnd.ms-word.document.macroenabled.main+xml":                           "macro-enabled Word document (DOCM)",
	"application/vnd.ms-word.template.macroenabledtemplate.main+xml":                   "macro-enabled Word template (DOTM)",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":       "Excel workbook (XLSX)",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml":    "Excel template (XLTX)",
	"application/vnd.ms-excel.sheet.macroenabled.main+xml":                             "macro-enabled Excel workbook (XLSM)",
	"application/vnd.ms-excel.sheet.binary.macroenabled.main":                          "Excel binary workbook (XLSB)",
	"application/vnd.ms-excel.template.macroenabled.main+xml":                          "macro-enabled Excel template (XLTM)",
	"application/vnd.ms-excel.addin.macroenabled.main+xml":                             "Excel add-in (XLAM)",
	"application/vnd.ms-visio.drawing.main+xml":                                        "Visio drawing (VSDX)",
	"application/vnd.ms-package.xps-fixeddocumentsequence+xml":                         "XPS document",
}

// InspectOOXML decides whether a ZIP upload is a plain PowerPoint
// presentation (PPTX). It returns nil only when the package's main part, as
// named by _rels/.rels, has the presentation content type and the package
// carries no VBA project. Otherwise it returns an *UnsupportedTypeError
// naming what the package is, or a *ZipBombError naming the cap it hit.
//
// Only the central directory is parsed (with its size bounded) before the
// entry-count, total-size and ratio caps are checked; nothing is
// decompressed until those pass, and then only the two or three small parts
// that identify the package, each through a MaxPartBytes cap.
func InspectOOXML(r io.ReaderAt, size int64, lim Limits) error {
	lim = lim.withDefaults()
	zr, err := openDirectory(r, size, lim)
	if err != nil {
		return err
	}
	if len(zr.File) > lim.MaxEntries {
		return &ZipBombError{Cap: CapEntries, Limit: int64(lim.MaxEntries), Got: int64(len(zr.File))}
	}
	parts, err := checkEntries(zr.File, lim)
	if err != nil {
		return err
	}

	// OpenDocument and EPUB packages announce themselves in a "mimetype"
	// entry; a PPTX has none, so any such entry disqualifies the file.
	if f := parts["mimetype"]; f != nil {
		b, err := readPart(f, lim)
		if err != nil {
			return err
		}
		return &UnsupportedTypeError{Found: describeMimetype(strings.TrimSpace(string(b)))}
	}

	ctFile := parts["[content_types].xml"]
	if ctFile == nil {
		return &UnsupportedTypeError{Found: describePlainZIP(parts)}
	}
	b, err := readPart(ctFile, lim)
	if err != nil {
		return err
	}
	var types contentTypes
	if err := xml.Unmarshal(b, &types); err != nil {
		return &UnsupportedTypeError{Found: foundDamagedOOXM, Err: fmt.Errorf("parse [Content_Types].xml: %w", err)}
	}

	mainPart, err := findMainPart(parts, lim)
	if err != nil {
		return err
	}
	return classify(&types, parts, mainPart)
}

// openDirectory parses the central directory with a read budget (see
// Limits.directoryBudget) and lifts the budget afterwards so that parts can
// be read.
func openDirectory(r io.ReaderAt, size int64, lim Limits) (*zip.Reader, error) {
	br := &budgetReaderAt{r: r, left: lim.directoryBudget()}
	zr, err := zip.NewReader(br, size)
	if br.exceeded {
		return nil, &ZipBombError{Cap: CapDirectory, Limit: lim.directoryBudget(), Got: lim.directoryBudget() + 1}
	}
	switch {
	case errors.Is(err, zip.ErrInsecurePath):
		return nil, &UnsupportedTypeError{Found: "ZIP archive with unsafe paths", Err: err}
	case err != nil:
		return nil, &UnsupportedTypeError{Found: "damaged ZIP archive", Err: fmt.Errorf("read central directory: %w", err)}
	}
	br.left = math.MaxInt64
	return zr, nil
}

// budgetReaderAt fails reads once more than left bytes have been asked for.
type budgetReaderAt struct {
	r        io.ReaderAt
	left     int64
	exceeded bool
}

var errBudget = errors.New("uploads: zip directory read budget exhausted")

func (b *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.left {
		b.exceeded = true
		return 0, errBudget
	}
	b.left -= int64(len(p))
	return b.r.ReadAt(p, off)
}

// checkEntries applies the declared-size caps to every entry and indexes
// entries by lower-cased name (OPC part names are case-insensitive).
func checkEntries(files []*zip.File, lim Limits) (map[string]*zip.File, error) {
	parts := make(map[string]*zip.File, len(files))
	var total uint64
	for _, f := range files {
		u, c := f.UncompressedSize64, f.CompressedSize64
		// Each u is at most the cap before it is added, so total never
		// overflows.
		if u > uint64(lim.MaxTotalUncompressed) || total+u > uint64(lim.MaxTotalUncompressed) {
			return nil, &ZipBombError{Cap: CapTotalUncompressed, Entry: f.Name,
				Limit: lim.MaxTotalUncompressed, Got: saturate(total + min(u, math.MaxInt64))}
		}
		total += u
		if u > uint64(lim.RatioMinSize) && (c == 0 || u/c > uint64(lim.MaxRatio)) {
			ratio := int64(math.MaxInt64)
			if c > 0 {
				ratio = int64(u / c)
			}
			return nil, &ZipBombError{Cap: CapRatio, Entry: f.Name, Limit: lim.MaxRatio, Got: ratio}
		}
		if !safeEntryName(f.Name) {
			return nil, &UnsupportedTypeError{Found: "ZIP archive with unsafe paths", Err: fmt.Errorf("entry %q", f.Name)}
		}
		key := strings.ToLower(f.Name)
		if parts[key] != nil {
			// Two parts with one name let two readers see two different
			// documents in one file; Office rejects them too.
			return nil, &UnsupportedTypeError{Found: foundDamagedOOXM, Err: fmt.Errorf("duplicate entry %q", f.Name)}
		}
		parts[key] = f
	}
	return parts, nil
}

func saturate(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// safeEntryName rejects names no OOXML writer produces and that would
// escape a directory if anything downstream ever extracted the archive.
func safeEntryName(name string) bool {
	if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || strings.ContainsRune(name, 0) {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == ".." {
			return false
		}
	}
	return true
}

// readPart decompresses one entry. It refuses the entry before reading if
// it declares more than MaxPartBytes, and reads through an io.LimitReader
// at the declared size plus one byte, so that a stream longer than
// declared is caught however the decompressor behaves (archive/zip itself
// reports it as zip.ErrFormat). The buffer is allocated once at the
// declared size, which is at most the cap.
func readPart(f *zip.File, lim Limits) ([]byte, error) {
	if f.UncompressedSize64 > uint64(lim.MaxPartBytes) {
		return nil, &ZipBombError{Cap: CapPartBytes, Entry: f.Name, Limit: lim.MaxPartBytes, Got: saturate(f.UncompressedSize64)}
	}
	size := int64(f.UncompressedSize64)
	rc, err := f.Open()
	if err != nil {
		return nil, partError(f, err)
	}
	defer rc.Close()
	b := make([]byte, size+1)
	n, err := io.ReadFull(io.LimitReader(rc, size+1), b)
	switch {
	case int64(n) > size:
		return nil, partError(f, zip.ErrFormat)
	case int64(n) < size:
		return nil, partError(f, fmt.Errorf("%d of %d bytes: %w", n, size, err))
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		// A checksum error, reported when the stream ends.
		return nil, partError(f, err)
	}
	return b[:n], nil
}

func partError(f *zip.File, err error) error {
	switch {
	case errors.Is(err, zip.ErrFormat):
		// From the checksum reader: more bytes came out than declared.
		return &ZipBombError{Cap: CapDeclaredSize, Entry: f.Name,
			Limit: saturate(f.UncompressedSize64), Got: saturate(f.UncompressedSize64 + 1)}
	case errors.Is(err, zip.ErrAlgorithm):
		return &UnsupportedTypeError{Found: "ZIP archive using an unsupported compression method",
			Err: fmt.Errorf("read %s: %w", f.Name, err)}
	}
	return &UnsupportedTypeError{Found: "damaged ZIP archive", Err: fmt.Errorf("read %s: %w", f.Name, err)}
}

// contentTypes is [Content_Types].xml. Element names match in any
// namespace, which is how tolerant readers treat it too.
type contentTypes struct {
	XMLName  xml.Name `xml:"Types"`
	Defaults []struct {
		Extension   string `xml:"Extension,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Default"`
	Overrides []struct {
		PartName    string `xml:"PartName,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Override"`
}

// of returns the lower-cased content type of a part name ("/ppt/x.xml"):
// its Override, else the Default for its extension, else "".
func (t *contentTypes) of(partName string) string {
	for _, o := range t.Overrides {
		if strings.EqualFold(o.PartName, partName) {
			return strings.ToLower(strings.TrimSpace(o.ContentType))
		}
	}
	ext := path.Ext(partName)
	if ext == "" {
		return ""
	}
	for _, d := range t.Defaults {
		if strings.EqualFold(d.Extension, ext[1:]) {
			return strings.ToLower(strings.TrimSpace(d.ContentType))
		}
	}
	return ""
}

// hasVBA reports a VBA project declared anywhere in the content types.
func (t *contentTypes) hasVBA() bool {
	for _, o := range t.Overrides {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(o.ContentType)), ctVBAProject) {
			return true
		}
	}
	for _, d := range t.Defaults {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(d.ContentType)), ctVBAProject) {
			return true
		}
	}
	return false
}

// relationships is a .rels part.
type relationships struct {
	XMLName xml.Name `xml:"Relationships"`
	Rels    []struct {
		Type       string `xml:"Type,attr"`
		Target     string `xml:"Target,attr"`
		TargetMode string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

// findMainPart returns the part name ("/ppt/presentation.xml") that the
// package relationships name as the office document, or "" when there is
// no _rels/.rels or no such relationship.
func findMainPart(parts map[string]*zip.File, lim Limits) (string, error) {
	f := parts["_rels/.rels"]
	if f == nil {
		return "", nil
	}
	b, err := readPart(f, lim)
	if err != nil {
		return "", err
	}
	var rels relationships
	if err := xml.Unmarshal(b, &rels); err != nil {
		return "", &UnsupportedTypeError{Found: foundDamagedOOXM, Err: fmt.Errorf("parse _rels/.rels: %w", err)}
	}
	main := ""
	for _, r := range rels.Rels {
		if r.Type != relOfficeDoc && r.Type != relOfficeDocISO || strings.EqualFold(r.TargetMode, "External") {
			continue
		}
		if main != "" {
			// Two main documents: which one a reader opens is up to
			// the reader, so the file cannot be judged.
			return "", &UnsupportedTypeError{Found: foundDamagedOOXM, Err: errors.New("two officeDocument relationships")}
		}
		target := r.Target
		if t, err := url.PathUnescape(target); err == nil {
			target = t
		}
		// Targets in the package .rels are relative to the package root.
		main = path.Clean("/" + strings.TrimPrefix(target, "/"))
	}
	return main, nil
}

// classify turns the content types and main part into a verdict.
func classify(types *contentTypes, parts map[string]*zip.File, mainPart string) error {
	mainCT := ""
	if mainPart != "" {
		mainCT = types.of(mainPart)
	}
	hasVBA := types.hasVBA()
	for name := range parts {
		if path.Base(name) == "vbaproject.bin" {
			hasVBA = true
		}
	}

	if mainCT == ctPresentation {
		switch {
		case hasVBA:
			return &UnsupportedTypeError{Found: foundPPTM}
		case parts[strings.ToLower(strings.TrimPrefix(mainPart, "/"))] == nil:
			return &UnsupportedTypeError{Found: foundDamagedPPTX, Err: fmt.Errorf("main part %s missing", mainPart)}
		}
		return nil
	}
	if found := describeMainType(mainCT); found != "" {
		return &UnsupportedTypeError{Found: found}
	}
	// No usable relationship: name the package by any main type it
	// declares, so a DOCX with a broken .rels is still called a DOCX.
	for _, o := range types.Overrides {
		ct := strings.ToLower(strings.TrimSpace(o.ContentType))
		if ct == ctPresentation {
			return &UnsupportedTypeError{Found: foundDamagedPPTX, Err: errors.New("no officeDocument relationship to the presentation")}
		}
		if found := describeMainType(ct); found != "" {
			return &UnsupportedTypeError{Found: found}
		}
	}
	if hasVBA {
		return &UnsupportedTypeError{Found: "Office file with macros"}
	}
	return &UnsupportedTypeError{Found: foundDamagedOOXM, Err: fmt.Errorf("main part %q has content type %q", mainPart, mainCT)}
}

// describeMainType names a (lower-cased) main-part content type, or returns
// "" when it is not one.
func describeMainType(ct string) string {
	if found, ok := mainTypes[ct]; ok {
		return found
	}
	switch {
	case !strings.HasSuffix(ct, ".main+xml"):
		return ""
	case strings.Contains(ct, "presentationml"), strings.Contains(ct, "ms-powerpoint"):
		return "PowerPoint file of another kind"
	case strings.Contains(ct, "wordprocessingml"), strings.Contains(ct, "ms-word"):
		return "Word document (DOCX)"
	case strings.Contains(ct, "spreadsheetml"), strings.Contains(ct, "ms-excel"):
		return "Excel workbook (XLSX)"
	}
	return "Office document of another kind"
}

// describeMimetype names an OpenDocument or EPUB package from its mimetype
// entry.
func describeMimetype(mt string) string {
	switch {
	case strings.HasPrefix(mt, "application/vnd.oasis.opendocument.presentation"):
		return "OpenDocument presentation (ODP)"
	case strings.HasPrefix(mt, "application/vnd.oasis.opendocument.text"):
		return "OpenDocument text (ODT)"
	case strings.HasPrefix(mt, "application/vnd.oasis.opendocument.spreadsheet"):
		return "OpenDocument spreadsheet (ODS)"
	case strings.HasPrefix(mt, "application/vnd.oasis.opendocument."):
		return "OpenDocument file"
	case mt == "application/epub+zip":
		return "EPUB e-book"
	}
	return foundZIP
}

// describePlainZIP names a ZIP without [Content_Types].xml.
func describePlainZIP(parts map[string]*zip.File) string {
	switch {
	case parts["androidmanifest.xml"] != nil:
		return "Android app (APK)"
	case parts["meta-inf/manifest.mf"] != nil:
		return "Java archive (JAR)"
	}
	return foundZIP
}
