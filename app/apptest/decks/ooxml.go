package decks

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
)

// modified is every entry's time stamp, so that the archives are the same
// bytes on every build.
var modified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// entry is one file of a ZIP archive. With raw set, body is already
// deflated and crc and size describe the inflated data.
type entry struct {
	name    string
	body    []byte
	stored  bool
	noExtra bool // no time stamp extra field (ODF's mimetype)

	raw       bool
	crc       uint32
	size      uint64 // inflated size declared in the headers
	rawLength uint64 // len(body), the compressed size
}

func file(name, body string) entry { return entry{name: name, body: []byte(body)} }

// zipOf writes the entries, in order, into a ZIP archive.
func zipOf(entries ...entry) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modified}
		if e.stored {
			fh.Method = zip.Store
		}
		if e.noExtra {
			fh.Modified = time.Time{}
		}
		if e.raw {
			fh.CRC32, fh.UncompressedSize64, fh.CompressedSize64 = e.crc, e.size, e.rawLength
			fw, err := w.CreateRaw(fh)
			must(err)
			_, err = fw.Write(e.body)
			must(err)
			continue
		}
		fw, err := w.CreateHeader(fh)
		must(err)
		_, err = fw.Write(e.body)
		must(err)
	}
	must(w.Close())
	return buf.Bytes()
}

// must panics on errors that writing to memory cannot have.
func must(err error) {
	if err != nil {
		panic("decks: " + err.Error())
	}
}

// XML namespaces and types of OOXML packages.
const (
	xmlDecl   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsCT      = "http://schemas.openxmlformats.org/package/2006/content-types"
	nsRels    = "http://schemas.openxmlformats.org/package/2006/relationships"
	nsA       = "http://schemas.openxmlformats.org/drawingml/2006/main"
	nsP       = "http://schemas.openxmlformats.org/presentationml/2006/main"
	nsR       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relBase   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	relCore   = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
	ctOffice  = "application/vnd.openxmlformats-officedocument."
	ctPres    = ctOffice + "presentationml.presentation.main+xml"
	ctPresMac = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"
	ctDocx    = ctOffice + "wordprocessingml.document.main+xml"
	ctVBA     = "application/vnd.ms-office.vbaProject"
	ctCore    = "application/vnd.openxmlformats-package.core-properties+xml"
	ctApp     = ctOffice + "extended-properties+xml"
	pns       = `xmlns:a="` + nsA + `" xmlns:r="` + nsR + `" xmlns:p="` + nsP + `"`
)

// contentTypes is a [Content_Types].xml with the usual defaults, extra
// defaults ("png image/png") and overrides ("/ppt/x.xml type").
func contentTypes(defaults, overrides []string) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Types xmlns="` + nsCT + `">`)
	b.WriteString(`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`)
	b.WriteString(`<Default Extension="xml" ContentType="application/xml"/>`)
	for _, d := range defaults {
		ext, ct, _ := strings.Cut(d, " ")
		fmt.Fprintf(&b, `<Default Extension="%s" ContentType="%s"/>`, ext, ct)
	}
	for _, o := range overrides {
		part, ct, _ := strings.Cut(o, " ")
		fmt.Fprintf(&b, `<Override PartName="%s" ContentType="%s"/>`, part, ct)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

// rels is a .rels part of "Id type target" relationships; a type without
// "://" is relative to the officeDocument relationships namespace.
func rels(rs ...string) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Relationships xmlns="` + nsRels + `">`)
	for _, r := range rs {
		f := strings.Fields(r)
		typ := f[1]
		if !strings.Contains(typ, "://") {
			typ = relBase + typ
		}
		fmt.Fprintf(&b, `<Relationship Id="%s" Type="%s" Target="%s"/>`, f[0], typ, f[2])
	}
	b.WriteString(`</Relationships>`)
	return b.String()
}

func docProps(app string) []entry {
	return []entry{
		file("docProps/core.xml", xmlDecl+`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
			`<dc:title>`+deckTitle+`</dc:title><dc:creator>Sprout</dc:creator>`+
			`<dcterms:created xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:created></cp:coreProperties>`),
		file("docProps/app.xml", xmlDecl+`<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>`+app+`</Application></Properties>`),
	}
}

// pptxOptions turn the valid presentation into one that must be refused.
type pptxOptions struct {
	macro                bool  // macro-enabled main type and a VBA project
	bombs                int   // this many ppt/media/imageN.png entries of bombSize zeros
	bombSize             int64 //
	padEntries           int   // this many extra empty entries
	lieAboutContentTypes bool  // declare [Content_Types].xml one byte short
}

// pptx is a presentation of one slide per slide: the package parts
// (content types, relationships, core and app properties), the
// presentation with its properties, one slide master with one blank
// layout, a theme, and the slides, each with two text boxes.
func pptx(o pptxOptions) []byte {
	mainCT := ctPres
	if o.macro {
		mainCT = ctPresMac
	}
	overrides := []string{
		"/ppt/presentation.xml " + mainCT,
		"/ppt/presProps.xml " + ctOffice + "presentationml.presProps+xml",
		"/ppt/slideMasters/slideMaster1.xml " + ctOffice + "presentationml.slideMaster+xml",
		"/ppt/slideLayouts/slideLayout1.xml " + ctOffice + "presentationml.slideLayout+xml",
		"/ppt/theme/theme1.xml " + ctOffice + "theme+xml",
		"/docProps/core.xml " + ctCore,
		"/docProps/app.xml " + ctApp,
	}
	for i := range slides {
		overrides = append(overrides, fmt.Sprintf("/ppt/slides/slide%d.xml %spresentationml.slide+xml", i+1, ctOffice))
	}
	var defaults []string
	if o.macro {
		overrides = append(overrides, "/ppt/vbaProject.bin "+ctVBA)
	}
	if o.bombs > 0 {
		defaults = append(defaults, "png image/png")
	}
	if o.padEntries > 0 {
		defaults = append(defaults, "bin application/octet-stream")
	}

	presRels := []string{
		"rId1 slideMaster slideMasters/slideMaster1.xml",
		"rId2 theme theme/theme1.xml",
		"rId3 presProps presProps.xml",
	}
	var sldIDs strings.Builder
	for i := range slides {
		presRels = append(presRels, fmt.Sprintf("rId%d slide slides/slide%d.xml", 10+i, i+1))
		fmt.Fprintf(&sldIDs, `<p:sldId id="%d" r:id="rId%d"/>`, 256+i, 10+i)
	}
	if o.macro {
		presRels = append(presRels, "rId4 http://schemas.microsoft.com/office/2006/relationships/vbaProject vbaProject.bin")
	}

	ct := file("[Content_Types].xml", contentTypes(defaults, overrides))
	if o.lieAboutContentTypes {
		ct = deflated(ct.name, ct.body)
		ct.size--
	}
	entries := []entry{
		ct,
		file("_rels/.rels", rels(
			"rId1 officeDocument ppt/presentation.xml",
			"rId2 "+relCore+" docProps/core.xml",
			"rId3 extended-properties docProps/app.xml")),
	}
	entries = append(entries, docProps("Sprout test decks")...)
	entries = append(entries,
		file("ppt/presentation.xml", xmlDecl+`<p:presentation `+pns+` saveSubsetFonts="1">`+
			`<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>`+
			`<p:sldIdLst>`+sldIDs.String()+`</p:sldIdLst>`+
			`<p:sldSz cx="9144000" cy="5143500"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`),
		file("ppt/_rels/presentation.xml.rels", rels(presRels...)),
		file("ppt/presProps.xml", xmlDecl+`<p:presentationPr `+pns+`/>`),
		file("ppt/slideMasters/slideMaster1.xml", xmlDecl+`<p:sldMaster `+pns+`><p:cSld>`+emptyTree+`</p:cSld>`+
			`<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>`+
			`<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`),
		file("ppt/slideMasters/_rels/slideMaster1.xml.rels", rels(
			"rId1 slideLayout ../slideLayouts/slideLayout1.xml",
			"rId2 theme ../theme/theme1.xml")),
		file("ppt/slideLayouts/slideLayout1.xml", xmlDecl+`<p:sldLayout `+pns+` type="blank" preserve="1"><p:cSld name="Blank">`+emptyTree+`</p:cSld>`+
			`<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`),
		file("ppt/slideLayouts/_rels/slideLayout1.xml.rels", rels("rId1 slideMaster ../slideMasters/slideMaster1.xml")),
		file("ppt/theme/theme1.xml", theme),
	)
	for i, s := range slides {
		entries = append(entries,
			file(fmt.Sprintf("ppt/slides/slide%d.xml", i+1), xmlDecl+`<p:sld `+pns+`><p:cSld><p:spTree>`+treeHead+
				textBox(2, "Title", 457200, 342900, 8229600, 857250, 3200, s.title)+
				textBox(3, "Body", 457200, 1371600, 8229600, 3086100, 2000, s.body)+
				`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`),
			file(fmt.Sprintf("ppt/slides/_rels/slide%d.xml.rels", i+1), rels("rId1 slideLayout ../slideLayouts/slideLayout1.xml")))
	}
	if o.macro {
		entries = append(entries, entry{name: "ppt/vbaProject.bin", body: oleFile()})
	}
	if o.bombs > 0 {
		z := zerosEntry(o.bombSize)
		for i := range o.bombs {
			z.name = fmt.Sprintf("ppt/media/image%d.png", i+1)
			entries = append(entries, z)
		}
	}
	for i := range o.padEntries {
		entries = append(entries, entry{name: fmt.Sprintf("ppt/media/pad%04d.bin", i), stored: true})
	}
	return zipOf(entries...)
}

// treeHead opens a shape tree.
const treeHead = `<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>` +
	`<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>`

const emptyTree = `<p:spTree>` + treeHead + `</p:spTree>`

func textBox(id int, name string, x, y, cx, cy, size int, text string) string {
	return fmt.Sprintf(`<p:sp><p:nvSpPr><p:cNvPr id="%d" name="%s"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>`+
		`<p:spPr><a:xfrm><a:off x="%d" y="%d"/><a:ext cx="%d" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>`+
		`<p:txBody><a:bodyPr wrap="square"/><a:lstStyle/><a:p><a:r><a:rPr lang="vi-VN" sz="%d"/><a:t>%s</a:t></a:r></a:p></p:txBody></p:sp>`,
		id, name, x, y, cx, cy, size, text)
}

// theme is a complete minimal DrawingML theme: twelve colours, the two
// fonts, and three of each format style.
var theme = func() string {
	three := func(s string) string { return s + s + s }
	fill := `<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>`
	colours := ""
	for _, c := range []struct{ name, rgb string }{
		{"dk2", "1F3A2E"}, {"lt2", "EEF3EA"}, {"accent1", "3B7A57"}, {"accent2", "8DB600"}, {"accent3", "C9A227"},
		{"accent4", "6B8E23"}, {"accent5", "2E8B57"}, {"accent6", "A0522D"}, {"hlink", "0563C1"}, {"folHlink", "954F72"},
	} {
		colours += fmt.Sprintf(`<a:%s><a:srgbClr val="%s"/></a:%s>`, c.name, c.rgb, c.name)
	}
	font := `<a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/>`
	return xmlDecl + `<a:theme xmlns:a="` + nsA + `" name="Sprout"><a:themeElements>` +
		`<a:clrScheme name="Sprout"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` + colours + `</a:clrScheme>` +
		`<a:fontScheme name="Sprout"><a:majorFont>` + font + `</a:majorFont><a:minorFont>` + font + `</a:minorFont></a:fontScheme>` +
		`<a:fmtScheme name="Sprout"><a:fillStyleLst>` + three(fill) + `</a:fillStyleLst>` +
		`<a:lnStyleLst>` + three(`<a:ln w="9525">`+fill+`</a:ln>`) + `</a:lnStyleLst>` +
		`<a:effectStyleLst>` + three(`<a:effectStyle><a:effectLst/></a:effectStyle>`) + `</a:effectStyleLst>` +
		`<a:bgFillStyleLst>` + three(fill) + `</a:bgFillStyleLst></a:fmtScheme>` +
		`</a:themeElements></a:theme>`
}()

// docx is a one-paragraph Word document.
func docx() []byte {
	return zipOf(append([]entry{
		file("[Content_Types].xml", contentTypes(nil, []string{
			"/word/document.xml " + ctDocx, "/docProps/core.xml " + ctCore, "/docProps/app.xml " + ctApp})),
		file("_rels/.rels", rels(
			"rId1 officeDocument word/document.xml",
			"rId2 "+relCore+" docProps/core.xml",
			"rId3 extended-properties docProps/app.xml")),
		file("word/document.xml", xmlDecl+`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">`+
			`<w:body><w:p><w:r><w:t>`+deckTitle+`</w:t></w:r></w:p></w:body></w:document>`),
	}, docProps("Sprout test decks")...)...)
}

// odp is an OpenDocument presentation of one slide: the mimetype entry
// first and stored, as the format requires, then the manifest, content
// and styles.
func odp() []byte {
	const office = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" ` +
		`xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" ` +
		`xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.3"`
	const mt = "application/vnd.oasis.opendocument.presentation"
	return zipOf(
		entry{name: "mimetype", body: []byte(mt), stored: true, noExtra: true},
		file("META-INF/manifest.xml", xmlDecl+`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">`+
			`<manifest:file-entry manifest:full-path="/" manifest:media-type="`+mt+`"/>`+
			`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>`+
			`<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/></manifest:manifest>`),
		file("content.xml", xmlDecl+`<office:document-content `+office+`><office:body><office:presentation>`+
			`<draw:page draw:name="page1" draw:master-page-name="Default"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="20cm" svg:height="3cm">`+
			`<draw:text-box><text:p>`+deckTitle+`</text:p></draw:text-box></draw:frame></draw:page>`+
			`</office:presentation></office:body></office:document-content>`),
		file("styles.xml", xmlDecl+`<office:document-styles `+office+`><office:master-styles>`+
			`<style:master-page style:name="Default"/></office:master-styles></office:document-styles>`),
	)
}

// plainZIP is a ZIP archive of one text file.
func plainZIP() []byte { return zipOf(file("notes.txt", "hello deck\n")) }

// deflated is name with body compressed, as a raw entry.
func deflated(name string, body []byte) entry {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	must(err)
	_, err = fw.Write(body)
	must(err)
	must(fw.Close())
	return entry{name: name, body: buf.Bytes(), raw: true, crc: crc32.ChecksumIEEE(body),
		size: uint64(len(body)), rawLength: uint64(buf.Len())}
}

// zerosEntry is a raw entry of n zero bytes (see deflateZeros).
func zerosEntry(n int64) entry {
	body := deflateZeros(n)
	return entry{body: body, raw: true, crc: crcZeros(n), size: uint64(n), rawLength: uint64(len(body))}
}
