package decks

import (
	"bytes"
	"fmt"
	"unicode/utf16"
)

// slides are the deck's pages: a title and a line of text each. The PDF
// pages use them without diacritics (its standard Helvetica font is
// WinAnsi-encoded); the PPTX slides and the PDF's title keep them.
var slides = []struct{ title, body, asciiTitle, asciiBody string }{
	{"Trà Shan tuyết Tây Bắc", "Hồ sơ gọi vốn vòng hạt giống", "Tra Shan tuyet Tay Bac", "Ho so goi von vong hat giong"},
	{"Vấn đề", "Chè cổ thụ bán thô, giá thấp, không rõ nguồn gốc", "Van de", "Che co thu ban tho, gia thap, khong ro nguon goc"},
	{"Giải pháp", "Chế biến tại bản, truy xuất nguồn gốc từng búp", "Giai phap", "Che bien tai ban, truy xuat nguon goc tung bup"},
	{"Thị trường", "Trà đặc sản trong nước và xuất khẩu", "Thi truong", "Tra dac san trong nuoc va xuat khau"},
	{"Mô hình kinh doanh", "Bán trực tiếp và qua nhà phân phối", "Mo hinh kinh doanh", "Ban truc tiep va qua nha phan phoi"},
	{"Đội ngũ", "Ba thành viên, mười năm trong nghề chè", "Doi ngu", "Ba thanh vien, muoi nam trong nghe che"},
	{"Gọi vốn", "2 tỷ đồng cho xưởng chế biến đầu tiên", "Goi von", "2 ty dong cho xuong che bien dau tien"},
}

const deckTitle = "Kế hoạch gọi vốn — Trà Shan tuyết Tây Bắc"

// pdfDeck is a PDF 1.7 file of one page per slide: catalog, page tree,
// one Helvetica font, an Info dictionary and, per page, the page and its
// content stream; then a classic cross-reference table giving every
// object's byte offset, and a trailer.
func pdfDeck() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	n := 4 + 2*len(slides) // objects 1..n
	offsets := make([]int, n+1)
	obj := func(num int, body string) {
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	kids := ""
	for i := range slides {
		kids += fmt.Sprintf(" %d 0 R", 5+2*i)
	}
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s ] /Count %d >>", kids, len(slides)))
	obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj(4, fmt.Sprintf("<< /Title %s /Producer (Sprout test decks) /CreationDate (D:20260101000000Z) >>", pdfTextString(deckTitle)))
	for i, s := range slides {
		page, content := 5+2*i, 6+2*i
		obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 792 446] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", content))
		stream := fmt.Sprintf("BT /F1 28 Tf 48 360 Td (%s) Tj ET\nBT /F1 14 Tf 48 300 Td (%s) Tj ET\nBT /F1 10 Tf 48 40 Td (%d / %d) Tj ET\n",
			pdfEscape(s.asciiTitle), pdfEscape(s.asciiBody), i+1, len(slides))
		obj(content, fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(stream), stream))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", n+1)
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R /ID [<5370726F75742D746573742D6465636B> <5370726F75742D746573742D6465636B>] >>\nstartxref\n%d\n%%%%EOF\n", n+1, xref)
	return b.Bytes()
}

// pdfEscape makes s a PDF literal string's content. Characters outside
// ASCII become '?' (the page text is ASCII already).
func pdfEscape(s string) string {
	var b []byte
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, byte(r))
		}
	}
	return string(b)
}

// pdfTextString is s as a PDF text string: UTF-16BE with a byte-order mark,
// in hex.
func pdfTextString(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}
