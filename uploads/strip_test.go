package uploads

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// The team's identifying strings planted in the test decks' metadata.
const (
	authorName   = "Nguyễn Văn An"
	authorEmail  = "an.nguyen@lotus-agritech.vn"
	companyName  = "Lotus Agritech JSC"
	managerName  = "Trần Thị Bích"
	reviewerName = "Lê Hoàng Minh"
)

var secrets = []string{authorName, authorEmail, companyName, managerName, reviewerName}

// utf16BE is s as a PDF text string in UTF-16BE, without the BOM.
func utf16BE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// pdfHexString is s as a PDF hex string body: BOM then UTF-16BE.
func pdfHexString(s string) string {
	return "FEFF" + strings.ToUpper(hex.EncodeToString(utf16BE(s)))
}

// encodings are the forms a secret can take in a PDF's bytes.
func encodings(s string) [][]byte {
	u := utf16BE(s)
	return [][]byte{
		[]byte(s), u,
		[]byte(strings.ToUpper(hex.EncodeToString(u))),
		[]byte(strings.ToLower(hex.EncodeToString(u))),
	}
}

// buildPDF writes a two-page PDF with an Info dictionary and a catalog XMP
// stream naming the team, and an XMP stream on page 1, computing the xref
// offsets.
func buildPDF(tb testing.TB) []byte {
	tb.Helper()
	content1 := "BT /F1 24 Tf 72 700 Td (Sprout pitch: page one) Tj ET\n"
	return buildPDFWith(tb, fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content1), content1))
}

// buildPDFWith is buildPDF with page 1's content stream object given.
func buildPDFWith(tb testing.TB, content1Obj string) []byte {
	tb.Helper()
	xmp := `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<dc:creator><rdf:Seq><rdf:li>` + authorName + `</rdf:li></rdf:Seq></dc:creator>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + companyName + ` pitch</rdf:li></rdf:Alt></dc:title>
<pdf:Producer>` + managerName + `'s PowerPoint</pdf:Producer>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>`
	pageXMP := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>` + reviewerName + `</dc:creator></x:xmpmeta>`
	content2 := "BT /F1 18 Tf 72 650 Td (Market and traction) Tj ET\n"
	objs := []string{
		`<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R 8 0 R] /Count 2 >>`,
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Metadata 10 0 R >>`,
		content1Obj,
		fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream", len(xmp)+1, xmp),
		`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`,
		`<< /Author <` + pdfHexString(authorName) + `> /Creator (Microsoft PowerPoint for ` + authorEmail + `)` +
			` /Producer <` + pdfHexString(managerName) + `> /Title (` + companyName + ` pitch)` +
			` /Subject <` + pdfHexString(reviewerName) + `> /Keywords (agritech, ` + companyName + `)` +
			` /CreationDate (D:20260101120000+07'00') >>`,
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 9 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [11 0 R 12 0 R] >>`,
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content2), content2),
		fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream", len(pageXMP)+1, pageXMP),
		`<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] /Contents (Check the numbers) /T <` + pdfHexString(reviewerName) + `> /P 8 0 R >>`,
		`<< /Type /Annot /Subtype /Widget /FT /Tx /Rect [200 200 300 220] /T (team_field) /P 8 0 R >>`,
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(objs)+1, xref)
	return b.Bytes()
}

func readPDF(tb testing.TB, b []byte) *model.Context {
	tb.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadAndValidate(bytes.NewReader(b), conf)
	if err != nil {
		tb.Fatalf("pdfcpu cannot read: %v", err)
	}
	return ctx
}

func pageContents(tb testing.TB, ctx *model.Context) [][]byte {
	tb.Helper()
	var out [][]byte
	for i := 1; i <= ctx.PageCount; i++ {
		d, _, _, err := ctx.PageDict(i, false)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := ctx.PageContent(d, i)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func strip(tb testing.TB, kind string, in []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	if err := StripMetadata(context.Background(), kind, bytes.NewReader(in), int64(len(in)), &out); err != nil {
		tb.Fatalf("StripMetadata(%s): %v", kind, err)
	}
	return out.Bytes()
}

// TestStripPDF: the Info dictionary keeps only what pdfcpu writes itself, no
// XMP is referenced anywhere, no secret survives in any form (raw bytes,
// UTF-16BE, hex, or inside a compressed stream), and the pages are the same.
func TestStripPDF(t *testing.T) {
	in := buildPDF(t)
	before := readPDF(t, in)
	// The fixture really carries the metadata the test looks for.
	if before.Info == nil || before.RootDict["Metadata"] == nil || before.Author != authorName {
		t.Fatalf("test PDF lacks its metadata: info %v, author %q", before.Info, before.Author)
	}
	out := strip(t, "pdf", in)
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Fatalf("output is not a PDF: %q", out[:min(len(out), 16)])
	}
	after := readPDF(t, out)

	if after.Info != nil {
		d, err := after.DereferenceDict(*after.Info)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range d {
			switch k {
			case "CreationDate", "ModDate":
			case "Producer":
				s, err := types.StringOrHexLiteral(v)
				if err != nil || !strings.HasPrefix(*s, "pdfcpu") {
					t.Errorf("Info /Producer is %v, want pdfcpu's own", v)
				}
			default:
				t.Errorf("Info keeps /%s %v", k, v)
			}
		}
		if cd := d["CreationDate"]; cd != nil && strings.Contains(cd.String(), "20260101") {
			t.Errorf("Info keeps the original CreationDate %v", cd)
		}
	}
	if after.RootDict["Metadata"] != nil {
		t.Errorf("catalog keeps /Metadata %v", after.RootDict["Metadata"])
	}

	// Every object, with its streams decoded.
	var all bytes.Buffer
	all.Write(out)
	for nr, e := range after.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		switch o := e.Object.(type) {
		case types.StreamDict:
			if o.Dict["Metadata"] != nil || o.Dict.NameEntry("Type") != nil && *o.Dict.NameEntry("Type") == "Metadata" {
				t.Errorf("object %d is or references XMP: %v", nr, o.Dict)
			}
			if err := o.Decode(); err == nil {
				all.Write(o.Content)
			}
			all.WriteString(o.Dict.String())
		case types.Dict:
			if o["Metadata"] != nil {
				t.Errorf("object %d references XMP: %v", nr, o)
			}
			all.WriteString(o.String())
		default:
			all.WriteString(o.String())
		}
	}
	for _, s := range secrets {
		for _, enc := range encodings(s) {
			if bytes.Contains(all.Bytes(), enc) {
				t.Errorf("%q survives as %q", s, enc)
			}
		}
	}

	if after.PageCount != before.PageCount || after.PageCount != 2 {
		t.Fatalf("pages: %d before, %d after", before.PageCount, after.PageCount)
	}
	bc, ac := pageContents(t, before), pageContents(t, after)
	for i := range bc {
		if !bytes.Equal(bc[i], ac[i]) {
			t.Errorf("page %d content changed:\n%q\n%q", i+1, bc[i], ac[i])
		}
	}
	if kind, err := Verify(bytes.NewReader(out), int64(len(out)), Limits{}); err != nil || kind != KindPDF {
		t.Errorf("Verify(stripped) = %v, %v", kind, err)
	}
	// The review comment stays, without its author; a form field keeps
	// its name (/T means that for widgets).
	if !bytes.Contains(all.Bytes(), []byte("Check the numbers")) {
		t.Error("the annotation's text is gone")
	}
	if !bytes.Contains(all.Bytes(), []byte("team_field")) {
		t.Error("the widget's field name is gone")
	}
}

// TestStripPDFIncrementalUpdate: metadata kept in an earlier revision (an
// incremental update that replaced the Info dictionary) does not survive
// either, since the file is rewritten from its current objects.
func TestStripPDFIncrementalUpdate(t *testing.T) {
	base := buildPDF(t)
	prev := bytes.LastIndex(base, []byte("startxref\n"))
	var prevXref int
	fmt.Sscanf(string(base[prev+len("startxref\n"):]), "%d", &prevXref)
	var b bytes.Buffer
	b.Write(base)
	off := b.Len()
	b.WriteString("13 0 obj\n<< /Title (Updated) >>\nendobj\n")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f \n13 1\n%010d 00000 n \ntrailer\n<< /Size 14 /Root 1 0 R /Info 13 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", off, prevXref, x)
	in := b.Bytes()
	if cur := readPDF(t, in); cur.Info == nil || cur.Info.ObjectNumber.Value() != 13 {
		t.Fatalf("the update is not the current revision: Info %v", cur.Info)
	}
	out := strip(t, "pdf", in)
	for _, s := range secrets {
		for _, enc := range encodings(s) {
			if bytes.Contains(out, enc) {
				t.Errorf("%q survives as %q", s, enc)
			}
		}
	}
	if bytes.Contains(out, []byte("Updated")) {
		t.Error("the updated Title survives")
	}
	if readPDF(t, out).PageCount != 2 {
		t.Error("pages lost")
	}
}

// TestStripPDFHostile: damaged PDFs give ErrStrip, never a panic or a
// partial success.
func TestStripPDFHostile(t *testing.T) {
	good := buildPDF(t)
	cases := map[string][]byte{
		"empty":          {},
		"header only":    []byte("%PDF-1.7\n"),
		"truncated":      good[:len(good)/2],
		"garbage body":   append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xff, 0x00, '<', '(', '['}, 2000)...),
		"no root":        bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Root 99 0 R"), 1),
		"self page tree": bytes.Replace(good, []byte("/Kids [3 0 R 8 0 R]"), []byte("/Kids [2 0 R 2 0 R]"), 1),
		"not a pdf":      []byte("MZ\x90\x00 this is a Windows executable"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := StripMetadata(context.Background(), "pdf", bytes.NewReader(in), int64(len(in)), &out)
			if err == nil {
				t.Fatalf("stripped a damaged PDF into %d bytes", out.Len())
			}
			if !errors.Is(err, ErrStrip) {
				t.Errorf("error %v is not ErrStrip", err)
			}
		})
	}
	// Damage that pdfcpu repairs, as viewers do (it rebuilds a broken
	// xref by scanning for objects): success is fine, but then the
	// result must be clean too.
	repairable := map[string][]byte{
		"bad startxref": bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1),
		"no xref":       good[:bytes.Index(good, []byte("xref\n"))],
	}
	for name, in := range repairable {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := StripMetadata(context.Background(), "pdf", bytes.NewReader(in), int64(len(in)), &out)
			if err != nil {
				if !errors.Is(err, ErrStrip) {
					t.Errorf("error %v is not ErrStrip", err)
				}
				return
			}
			for _, s := range secrets {
				for _, enc := range encodings(s) {
					if bytes.Contains(out.Bytes(), enc) {
						t.Errorf("repaired: %q survives as %q", s, enc)
					}
				}
			}
		})
	}
}

// A PDF Flate bomb: a content stream that inflates past the cap (here
// lowered to 1 MiB) is refused, or left compressed: never inflated whole.
func TestStripPDFFlateBomb(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 8<<20))
	_ = zw.Close()
	in := buildPDFWith(t, fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes()))
	var out bytes.Buffer
	err := stripMetadata(context.Background(), "pdf", bytes.NewReader(in), int64(len(in)), &out,
		Limits{MaxTotalUncompressed: 1 << 20})
	t.Logf("err = %v, %d bytes out (input %d)", err, out.Len(), len(in))
	if err == nil && out.Len() > 1<<20 {
		t.Fatalf("wrote %d bytes: the stream was inflated", out.Len())
	}
}

// pptxEntries is a small PPTX in the shape PowerPoint writes, with the
// team's names in every metadata part. Slide 2 is stored, the rest deflated.
func pptxEntries() []zipEntry {
	const ctTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/><Override PartName="/ppt/slides/slide1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/><Override PartName="/ppt/slides/slide2.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/><Override PartName="/ppt/commentAuthors.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.commentAuthors+xml"/><Override PartName="/ppt/authors.xml" ContentType="application/vnd.ms-powerpoint.authors+xml"/><Override PartName="/ppt/comments/comment1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.comments+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>`
	const rels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>`
	return []zipEntry{
		{name: "[Content_Types].xml", body: ctTypes},
		{name: "_rels/.rels", body: rels},
		{name: "ppt/presentation.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:presentation xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:sldIdLst><p:sldId id="256" r:id="rId2"/><p:sldId id="257" r:id="rId3"/></p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`},
		{name: "ppt/_rels/presentation.xml.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide2.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/commentAuthors" Target="commentAuthors.xml"/><Relationship Id="rId5" Type="http://schemas.microsoft.com/office/2018/10/relationships/authors" Target="authors.xml"/></Relationships>`},
		{name: "ppt/slides/slide1.xml", body: slideXML("Sprout: vertical farming for the Mekong delta")},
		{name: "ppt/slides/_rels/slide1.xml.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="../comments/comment1.xml"/></Relationships>`},
		{name: "ppt/slides/slide2.xml", body: slideXML("Market and traction"), stored: true},
		{name: "ppt/comments/comment1.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm authorId="1" dt="2026-11-20T10:00:00.000" idx="1"><p:pos x="10" y="10"/><p:text>Check the numbers</p:text></p:cm><p:cm authorId="2" dt="2026-11-21T10:00:00.000" idx="1"><p:pos x="20" y="20"/><p:text>Done</p:text></p:cm></p:cmLst>`},
		{name: "ppt/commentAuthors.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:cmAuthorLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cmAuthor id="1" name="` + authorName + `" initials="NVA" lastIdx="1" clrIdx="0"><p:extLst><p:ext uri="{19B8F6BF-5375-455C-9EA6-DF929625EA0E}"><p15:presenceInfo xmlns:p15="http://schemas.microsoft.com/office/powerpoint/2012/main" userId="S::` + authorEmail + `::0f0e" providerId="AD"/></p:ext></p:extLst></p:cmAuthor><p:cmAuthor id="2" name="` + reviewerName + `" initials="LHM" lastIdx="1" clrIdx="1"/></p:cmAuthorLst>`},
		{name: "ppt/authors.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p188:authorLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:author id="{8C1A2B3D-0000-4000-8000-0123456789AB}" name="` + authorName + `" initials="NVA" userId="` + authorEmail + `" providerId="AD"/><p188:author id="` + reviewerName + `" name="x" initials="y" userId="z" providerId="AD"/></p188:authorLst>`},
		{name: "docProps/core.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>` + companyName + ` pitch</dc:title><dc:subject>Seed round</dc:subject><dc:creator>` + authorName + `</dc:creator><cp:keywords>` + companyName + `</cp:keywords><dc:description>by ` + authorEmail + `</dc:description><cp:lastModifiedBy>` + reviewerName + `</cp:lastModifiedBy><cp:revision>7</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">2026-10-01T08:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-21T10:00:00Z</dcterms:modified></cp:coreProperties>`},
		{name: "docProps/app.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><TotalTime>90</TotalTime><Application>Microsoft Office PowerPoint</Application><Slides>2</Slides><Manager>` + managerName + `</Manager><Company>` + companyName + `</Company><AppVersion>16.0000</AppVersion></Properties>`},
		{name: "docProps/custom.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Owner"><vt:lpwstr>` + authorEmail + `</vt:lpwstr></property></Properties>`},
	}
}

func slideXML(title string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>` + title + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
}

// For the external tests (blind_copy_test.go).
var (
	BuildStripTestPDF  = buildPDF
	BuildStripTestPPTX = buildPPTX
	StripTestSecrets   = secrets
	SecretEncodings    = encodings
)

func buildPPTX(tb testing.TB) []byte {
	tb.Helper()
	b := buildZip(tb, pptxEntries()...)
	if err := inspect(b, Limits{}); err != nil {
		tb.Fatalf("test PPTX not accepted by InspectOOXML: %v", err)
	}
	return b
}

func zipOf(tb testing.TB, b []byte) *zip.Reader {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return zr
}

func entryBytes(tb testing.TB, f *zip.File, raw bool) []byte {
	tb.Helper()
	var rc io.Reader
	var err error
	if raw {
		rc, err = f.OpenRaw()
	} else {
		var c io.ReadCloser
		c, err = f.Open()
		if err == nil {
			defer c.Close()
			rc = c
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("%s: %v", f.Name, err)
	}
	return b
}

// TestStripPPTX: no secret is left in any entry (decompressed), every
// non-metadata entry is identical in content, compressed bytes and method,
// entries keep their names and order, comments still resolve to authors, and
// the result is still a PPTX to the pipeline's inspector.
func TestStripPPTX(t *testing.T) {
	in := buildPPTX(t)
	out := strip(t, "pptx", in)

	if kind, err := Verify(bytes.NewReader(out), int64(len(out)), Limits{}); err != nil || kind != KindPPTX {
		t.Fatalf("Verify(stripped) = %v, %v", kind, err)
	}
	zin, zout := zipOf(t, in), zipOf(t, out)
	if len(zin.File) != len(zout.File) {
		t.Fatalf("%d entries in, %d out", len(zin.File), len(zout.File))
	}
	meta := map[string]bool{"docProps/core.xml": true, "docProps/app.xml": true, "docProps/custom.xml": true,
		"ppt/commentAuthors.xml": true, "ppt/authors.xml": true}
	for i, fo := range zout.File {
		fi := zin.File[i]
		if fo.Name != fi.Name {
			t.Fatalf("entry %d is %q, was %q", i, fo.Name, fi.Name)
		}
		content := entryBytes(t, fo, false)
		for _, s := range secrets {
			if bytes.Contains(content, []byte(s)) {
				t.Errorf("%s still contains %q", fo.Name, s)
			}
		}
		if meta[fo.Name] {
			if bytes.Equal(content, entryBytes(t, fi, false)) {
				t.Errorf("%s was not replaced", fo.Name)
			}
			continue
		}
		if fo.Method != fi.Method || fo.CRC32 != fi.CRC32 ||
			!bytes.Equal(entryBytes(t, fo, true), entryBytes(t, fi, true)) ||
			!bytes.Equal(content, entryBytes(t, fi, false)) {
			t.Errorf("%s changed (method %d→%d)", fo.Name, fi.Method, fo.Method)
		}
	}

	// The replacements are well-formed XML and the comments' authorIds
	// still name authors.
	for _, f := range zout.File {
		if !meta[f.Name] {
			continue
		}
		if err := wellFormed(entryBytes(t, f, false)); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	ca := string(entryBytes(t, find(t, zout, "ppt/commentAuthors.xml"), false))
	for _, want := range []string{`<p:cmAuthor id="1" name="Author 1" initials="A1" lastIdx="1" clrIdx="0"/>`,
		`<p:cmAuthor id="2" name="Author 2" initials="A2" lastIdx="1" clrIdx="1"/>`} {
		if !strings.Contains(ca, want) {
			t.Errorf("commentAuthors.xml lacks %s:\n%s", want, ca)
		}
	}
	au := string(entryBytes(t, find(t, zout, "ppt/authors.xml"), false))
	for _, want := range []string{`id="{8C1A2B3D-0000-4000-8000-0123456789AB}" name="Author 1"`,
		`id="{00000000-0000-0000-0000-000000000002}" name="Author 2"`} {
		if !strings.Contains(au, want) {
			t.Errorf("authors.xml lacks %s:\n%s", want, au)
		}
	}
	if zout.Comment != "" {
		t.Errorf("archive comment %q", zout.Comment)
	}

	// Stripping is deterministic for a PPTX, and stripping again changes
	// nothing.
	if again := strip(t, "pptx", in); !bytes.Equal(again, out) {
		t.Error("two strips of one PPTX differ")
	}
	if twice := strip(t, "pptx", out); !bytes.Equal(twice, out) {
		t.Error("stripping a stripped PPTX changed it")
	}
}

// TestStripPPTXDropsComments: entry and archive comments, which a zip tool
// can fill with anything, are not carried over.
func TestStripPPTXDropsComments(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range pptxEntries() {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Comment: "by " + authorEmail})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, e.body)
	}
	_ = zw.SetComment("packed by " + authorEmail)
	_ = zw.Close()
	out := strip(t, "pptx", buf.Bytes())
	if bytes.Contains(out, []byte(authorEmail)) {
		t.Error("a zip comment survives")
	}
}

func find(tb testing.TB, zr *zip.Reader, name string) *zip.File {
	tb.Helper()
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	tb.Fatalf("no %s", name)
	return nil
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestStripPPTXHostile: archives over the inspector's caps are refused with
// a *ZipBombError before anything is written, and anything that is not a
// plain PPTX is refused with an *UnsupportedTypeError.
func TestStripPPTXHostile(t *testing.T) {
	base := pptxEntries()

	many := append([]zipEntry{}, base...)
	for i := range DefaultLimits().MaxEntries {
		many = append(many, zipEntry{name: fmt.Sprintf("ppt/media/pad%d.bin", i), body: "x", stored: true})
	}
	// 11 MiB of zeros deflates about 1000:1, past MaxRatio, and is over
	// RatioMinSize.
	ratio := append(append([]zipEntry{}, base...), zipEntry{name: "ppt/media/video.mp4", body: string(make([]byte, 11<<20))})

	bombs := map[string]struct {
		zip []byte
		cap string
	}{
		"entries": {buildZip(t, many...), CapEntries},
		"ratio":   {buildZip(t, ratio...), CapRatio},
	}
	for name, c := range bombs {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := StripMetadata(context.Background(), "pptx", bytes.NewReader(c.zip), int64(len(c.zip)), &out)
			var zbe *ZipBombError
			if !errors.As(err, &zbe) || zbe.Cap != c.cap || !errors.Is(err, ErrStrip) {
				t.Fatalf("err = %v, want a ZipBombError on %s", err, c.cap)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written before the refusal", out.Len())
			}
		})
	}

	// A comment-author part bigger than MaxPartBytes is refused before it
	// is decompressed.
	bigAuthors := append([]zipEntry{}, base...)
	for i := range bigAuthors {
		if bigAuthors[i].name == "ppt/commentAuthors.xml" {
			bigAuthors[i].body = strings.Replace(bigAuthors[i].body, "</p:cmAuthorLst>",
				strings.Repeat("<!-- padding -->", 300<<10/16)+"</p:cmAuthorLst>", 1)
		}
	}
	b := buildZip(t, bigAuthors...)
	var out bytes.Buffer
	err := stripMetadata(context.Background(), "pptx", bytes.NewReader(b), int64(len(b)), &out, Limits{MaxPartBytes: 256 << 10})
	var zbe *ZipBombError
	if !errors.As(err, &zbe) || zbe.Cap != CapPartBytes {
		t.Errorf("oversized commentAuthors.xml: err = %v, want a ZipBombError on %s", err, CapPartBytes)
	}

	notPPTX := map[string][]byte{
		"pdf as pptx": buildPDF(t),
		"docx":        buildZip(t, officePackage("word/document.xml", ctDOCX)...),
		"pptm":        buildZip(t, officePackage("ppt/presentation.xml", ctPPTM)...),
		"truncated":   buildPPTX(t)[:1500],
		"garbage":     bytes.Repeat([]byte("PK\x03\x04"), 100),
	}
	for name, in := range notPPTX {
		t.Run(name, func(t *testing.T) {
			err := StripMetadata(context.Background(), "pptx", bytes.NewReader(in), int64(len(in)), io.Discard)
			var ute *UnsupportedTypeError
			if !errors.As(err, &ute) || !errors.Is(err, ErrStrip) {
				t.Fatalf("err = %v, want an UnsupportedTypeError", err)
			}
		})
	}
}

// TestStripMetadataInput: the size must match the reader, the kind must be
// one the pipeline records, and a cancelled context stops the work.
func TestStripMetadataInput(t *testing.T) {
	in := buildPPTX(t)
	ctx := context.Background()
	if err := StripMetadata(ctx, "pptx", bytes.NewReader(in), int64(len(in))+1, io.Discard); err == nil {
		t.Error("short reader accepted")
	}
	if err := StripMetadata(ctx, "pptx", bytes.NewReader(in), int64(len(in))-1, io.Discard); err == nil {
		t.Error("long reader accepted")
	}
	if err := StripMetadata(ctx, "zip", bytes.NewReader(in), int64(len(in)), io.Discard); err == nil {
		t.Error(`kind "zip" accepted`)
	}
	if err := StripMetadata(ctx, "pptx", bytes.NewReader(in), -1, io.Discard); err == nil {
		t.Error("negative size accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := StripMetadata(cctx, "pptx", bytes.NewReader(in), int64(len(in)), io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

// FuzzStripPPTX: whatever the archive, StripMetadata does not panic, and
// when it succeeds the result is still a PPTX with the same entries, none
// of whose metadata parts keeps anything of the input's.
func FuzzStripPPTX(f *testing.F) {
	f.Add(buildZip(f, pptxEntries()...))
	f.Add(buildZip(f, officePackage("ppt/presentation.xml", ctPPTX)...))
	lim := Limits{MaxEntries: 50, MaxTotalUncompressed: 1 << 20, MaxPartBytes: 64 << 10, RatioMinSize: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := stripMetadata(context.Background(), "pptx", bytes.NewReader(data), int64(len(data)), &out, lim)
		if err != nil {
			if !errors.Is(err, ErrStrip) {
				t.Fatalf("error not ErrStrip: %v", err)
			}
			return
		}
		if err := InspectOOXML(bytes.NewReader(out.Bytes()), int64(out.Len()), lim); err != nil {
			t.Fatalf("stripped PPTX rejected: %v", err)
		}
		zin, zout := zipOf(t, data), zipOf(t, out.Bytes())
		if len(zin.File) != len(zout.File) {
			t.Fatalf("%d entries in, %d out", len(zin.File), len(zout.File))
		}
		for i, fo := range zout.File {
			if fo.Name != zin.File[i].Name {
				t.Fatalf("entry %d renamed %q → %q", i, zin.File[i].Name, fo.Name)
			}
		}
	})
}
