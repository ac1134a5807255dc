package uploads

import (
	"context"
	"fmt"
	"io"
	"os"

	// pdfcpu reads, edits and rewrites PDFs in pure Go (no cgo, no external
	// tool to install in the image), is Apache-2.0, and is actively
	// maintained with tagged releases. Editing the object graph through a
	// real parser is what makes the strip trustworthy: hand-written
	// surgery on the bytes would miss Info dictionaries in object streams,
	// older revisions kept by incremental updates and XMP in compressed
	// streams, all of which pdfcpu resolves on reading and drops on writing
	// a fresh file.
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// Without this pdfcpu's first NewDefaultConfiguration writes a config
	// directory (and copies fonts) under the user's config dir. The
	// defaults are all stripPDF needs.
	api.DisableConfigDir()
}

// pdfPrivateKeys are the dictionary entries stripPDF deletes wherever they
// occur: Metadata is an XMP stream (the catalog's is the document's; pages,
// images and fonts may carry their own, copied from the files they came
// from), PieceInfo is private data of the application that made the page.
// Both are optional everywhere (ISO 32000-1, 14.3.2 and 14.5), so viewers do
// not need them.
var pdfPrivateKeys = []string{"Metadata", "PieceInfo"}

// markupAnnots are the annotation subtypes whose /T is the name of the
// person who made them (ISO 32000-1, 12.5.6.2): a PowerPoint export of a
// deck with review comments carries the reviewers' names there. Widget
// annotations are not among them: their /T is a form field's name.
var markupAnnots = map[string]bool{
	"Text": true, "FreeText": true, "Line": true, "Square": true, "Circle": true,
	"Polygon": true, "PolyLine": true, "Highlight": true, "Underline": true,
	"Squiggly": true, "StrikeOut": true, "Stamp": true, "Caret": true, "Ink": true,
	"FileAttachment": true, "Sound": true, "Redact": true, "Popup": true,
}

// stripPDF rewrites the PDF in f without its document information dictionary
// and XMP metadata. pdfcpu parses the whole file into memory (about the
// file's size again, more for heavily compressed object streams) and writes a
// new file from the objects reachable from the catalog, so objects that no
// longer have a reference (the old Info dictionary, the XMP streams, the
// objects of older revisions) are not written at all.
//
// pdfcpu always gives a PDF older than 2.0 an Info dictionary when writing
// it, with its own Producer ("pdfcpu v…") and CreationDate and ModDate set to
// the time of writing: the output has exactly those three entries, none of
// them from the original. The same goes for the second half of the file
// identifier (/ID), which pdfcpu makes from the time and the new Info
// dictionary; the first half, a random-looking hash the author's tool made,
// is kept as the spec requires. So two strips of one PDF differ in those
// bytes; BlindCopy copes with that.
//
// Streams are decoded (while validating) through pdfcpu's own cap, which is
// set to lim.MaxTotalUncompressed so that a PDF's Flate bomb is held to the
// same bound as a PPTX's.
func stripPDF(ctx context.Context, f *os.File, size int64, w io.Writer, lim Limits) (err error) {
	// pdfcpu reports most damage as errors but, on some hostile inputs,
	// panics (index out of range in its parser); a deck must never take
	// the server down.
	defer func() {
		if p := recover(); p != nil {
			err = stripError("pdf", fmt.Errorf("pdfcpu panicked: %v", p))
		}
	}()
	head := make([]byte, min(size, 8))
	if _, err := io.ReadFull(f, head); err != nil || !isPDFHeader(head) {
		return stripError("pdf", &UnsupportedTypeError{Found: describe(head)})
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("uploads: strip: %w", err)
	}

	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Optimize = false
	conf.Limits.MaxDecodeBytes = lim.withDefaults().MaxTotalUncompressed
	pctx, err := api.ReadAndValidate(f, conf)
	if err != nil {
		return stripError("pdf", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	removePDFMetadata(pctx)
	if err := api.WriteContext(pctx, w); err != nil {
		return fmt.Errorf("uploads: strip: write pdf: %w", err)
	}
	return nil
}

// removePDFMetadata drops the Info dictionary, every pdfPrivateKeys entry,
// and the author (/T) of every markup annotation from pctx.
func removePDFMetadata(pctx *model.Context) {
	x := pctx.XRefTable
	if x.Info != nil {
		// Free the object, not just the reference: a later write must
		// not find it.
		if e, ok := x.Table[x.Info.ObjectNumber.Value()]; ok && e != nil {
			e.Object = types.Dict{}
		}
		x.Info = nil
	}
	x.Author, x.Creator, x.Producer, x.Title, x.Subject, x.Keywords = "", "", "", "", "", ""
	x.CreationDate, x.ModDate = "", ""
	x.KeywordList, x.Properties, x.CatalogXMPMeta = nil, nil, nil
	for _, k := range pdfPrivateKeys {
		x.RootDict.Delete(k)
	}
	for _, e := range x.Table {
		if e == nil || e.Free {
			continue
		}
		var d types.Dict
		switch o := e.Object.(type) {
		case types.Dict:
			d = o
		case types.StreamDict:
			d = o.Dict
		default:
			continue
		}
		for _, k := range pdfPrivateKeys {
			d.Delete(k)
		}
		if st := d.NameEntry("Subtype"); st != nil && markupAnnots[*st] {
			d.Delete("T")
		}
	}
}
