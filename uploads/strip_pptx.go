package uploads

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Content types of the OOXML parts that carry authoring metadata.
const (
	ctCoreProps      = "application/vnd.openxmlformats-package.core-properties+xml"
	ctAppProps       = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
	ctCustomProps    = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
	ctCommentAuthors = "application/vnd.openxmlformats-officedocument.presentationml.commentauthors+xml"
	ctModernAuthors  = "application/vnd.ms-powerpoint.authors+xml"
)

// metaPart says how stripPPTX replaces one metadata part.
type metaPart int

const (
	notMeta metaPart = iota
	metaCore
	metaApp
	metaCustom
	metaCommentAuthors
	metaModernAuthors
)

// metaByType maps a lower-cased content type to its part kind.
var metaByType = map[string]metaPart{
	ctCoreProps:      metaCore,
	ctAppProps:       metaApp,
	ctCustomProps:    metaCustom,
	ctCommentAuthors: metaCommentAuthors,
	ctModernAuthors:  metaModernAuthors,
}

// metaByName are the usual names of those parts (lower-cased), replaced even
// if [Content_Types].xml gives them another type: a reader that goes by name
// would still show them.
var metaByName = map[string]metaPart{
	"docprops/core.xml":      metaCore,
	"docprops/app.xml":       metaApp,
	"docprops/custom.xml":    metaCustom,
	"ppt/commentauthors.xml": metaCommentAuthors,
	"ppt/authors.xml":        metaModernAuthors,
}

// Minimal parts: valid against the OPC and OOXML schemas (every child
// element of these roots is optional), so PowerPoint and LibreOffice open
// the package without a repair prompt.
const (
	xmlDecl     = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n"
	minimalCore = xmlDecl + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"` +
		` xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>`
	minimalApp = xmlDecl + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"` +
		` xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>`
	minimalCustom = xmlDecl + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"` +
		` xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>`
)

// stripPPTX rewrites the PPTX in f with its metadata parts replaced (see
// StripMetadata). It first runs InspectOOXML, so the caps of lim (entries,
// total and per-part sizes, ratio, directory size) apply before anything is
// written, and a file that is not a plain PPTX is refused. Entries other
// than the metadata parts are copied with their compressed bytes as they
// are (zip.Writer.CreateRaw), never decompressed, so an entry's content is
// byte-identical and an entry that would expand enormously costs only its
// compressed size. The only parts decompressed are [Content_Types].xml and
// the comment-author parts, each through readPart's MaxPartBytes cap.
//
// Entry comments, extra fields and the archive comment are not copied (they
// can hold anything); entry names, order, methods, flags and times are.
func stripPPTX(ctx context.Context, f *os.File, size int64, w io.Writer, lim Limits) error {
	lim = lim.withDefaults()
	if err := InspectOOXML(f, size, lim); err != nil {
		return stripError("pptx", err)
	}
	zr, err := openDirectory(f, size, lim)
	if err != nil {
		return stripError("pptx", err)
	}
	parts, err := checkEntries(zr.File, lim)
	if err != nil {
		return stripError("pptx", err)
	}
	b, err := readPart(parts["[content_types].xml"], lim)
	if err != nil {
		return stripError("pptx", err)
	}
	var types contentTypes
	if err := xml.Unmarshal(b, &types); err != nil {
		return stripError("pptx", &UnsupportedTypeError{Found: foundDamagedOOXM, Err: err})
	}

	zw := zip.NewWriter(w)
	for i, e := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		kind := metaByName[strings.ToLower(e.Name)]
		if kind == notMeta {
			kind = metaByType[types.of("/"+e.Name)]
		}
		if kind == notMeta {
			err = copyRaw(zw, e)
		} else {
			err = writeMeta(zw, e, kind, lim)
		}
		if err != nil {
			return fmt.Errorf("uploads: strip: pptx entry %d (%s): %w", i, e.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("uploads: strip: pptx: %w", err)
	}
	return nil
}

// copyRaw copies e's compressed bytes to zw unchanged.
func copyRaw(zw *zip.Writer, e *zip.File) error {
	fh := e.FileHeader
	fh.Comment, fh.Extra = "", nil
	dst, err := zw.CreateRaw(&fh)
	if err != nil {
		return err
	}
	src, err := e.OpenRaw()
	if err != nil {
		return stripError("pptx", partError(e, err))
	}
	// OpenRaw's reader is a section of exactly CompressedSize64 bytes.
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	return nil
}

// writeMeta writes the replacement for metadata part e.
func writeMeta(zw *zip.Writer, e *zip.File, kind metaPart, lim Limits) error {
	var body []byte
	switch kind {
	case metaCore:
		body = []byte(minimalCore)
	case metaApp:
		body = []byte(minimalApp)
	case metaCustom:
		body = []byte(minimalCustom)
	case metaCommentAuthors, metaModernAuthors:
		b, err := readPart(e, lim)
		if err != nil {
			return stripError("pptx", err)
		}
		if body, err = anonymizeAuthors(b, kind); err != nil {
			return stripError("pptx", &UnsupportedTypeError{Found: foundDamagedPPTX, Err: err})
		}
	}
	dst, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: e.Modified})
	if err != nil {
		return err
	}
	_, err = dst.Write(body)
	return err
}

// anonymizeAuthors rewrites a comment-author list, keeping what comments
// refer to and dropping who the authors are.
//
// Legacy comments (ppt/commentAuthors.xml, p:cmAuthorLst) refer to an author
// by its numeric id, and lastIdx and clrIdx say how the next comment is
// numbered and coloured; names, initials and the extLst (whose
// p15:presenceInfo holds the account, often an e-mail address) go. Modern
// comments (ppt/authors.xml, p188:authorLst) refer to an author by its GUID
// id (kept if it is a GUID); name, initials, userId and providerId are
// replaced. The result is
// written from scratch, so nothing else in the original survives.
func anonymizeAuthors(b []byte, kind metaPart) ([]byte, error) {
	type author struct{ id, lastIdx, clrIdx string }
	var authors []author
	elem, root := "cmAuthor", "cmAuthorLst"
	if kind == metaModernAuthors {
		elem, root = "author", "authorLst"
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	sawRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", root, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case root:
			sawRoot = true
		case elem:
			var a author
			for _, at := range se.Attr {
				switch at.Name.Local {
				case "id":
					a.id = at.Value
				case "lastIdx":
					a.lastIdx = at.Value
				case "clrIdx":
					a.clrIdx = at.Value
				}
			}
			authors = append(authors, a)
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("no %s element", root)
	}

	var out bytes.Buffer
	out.WriteString(xmlDecl)
	if kind == metaModernAuthors {
		out.WriteString(`<p188:authorLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"` +
			` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"` +
			` xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"` +
			` xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main">`)
		for i, a := range authors {
			n := strconv.Itoa(i + 1)
			out.WriteString(`<p188:author id="` + xmlAttr(guid(a.id, i+1)) + `" name="Author ` + n + `" initials="A` + n +
				`" userId="Author ` + n + `" providerId="None"/>`)
		}
		out.WriteString(`</p188:authorLst>`)
		return out.Bytes(), nil
	}
	out.WriteString(`<p:cmAuthorLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"` +
		` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"` +
		` xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">`)
	for i, a := range authors {
		n := strconv.Itoa(i + 1)
		out.WriteString(`<p:cmAuthor id="` + xmlAttr(numeric(a.id, strconv.Itoa(i))) + `" name="Author ` + n +
			`" initials="A` + n + `" lastIdx="` + xmlAttr(numeric(a.lastIdx, "0")) +
			`" clrIdx="` + xmlAttr(numeric(a.clrIdx, strconv.Itoa(i))) + `"/>`)
	}
	out.WriteString(`</p:cmAuthorLst>`)
	return out.Bytes(), nil
}

// numeric returns s if it is an unsigned decimal number (as the schema
// requires of cmAuthor's attributes), else def: a name smuggled into an id
// attribute must not survive either.
func numeric(s, def string) string {
	if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return def
	}
	return s
}

// xmlAttr escapes s for a double-quoted attribute value (EscapeText escapes
// quotes too).
func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// guid returns s if it is a braced GUID, as modern author ids are, else a
// made-up one numbered n.
func guid(s string, n int) string {
	ok := len(s) == 38 && s[0] == '{' && s[37] == '}'
	for i := 1; ok && i < 37; i++ {
		c := s[i]
		if i == 9 || i == 14 || i == 19 || i == 24 {
			ok = c == '-'
		} else {
			ok = isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
		}
	}
	if ok {
		return s
	}
	return fmt.Sprintf("{00000000-0000-0000-0000-%012d}", n)
}
