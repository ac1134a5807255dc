package uploads_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/sprout-vn/sprout/uploads"
)

// putDeck stores b under a new deck key as Receive would (content type and a
// Content-Disposition naming the team) and returns the key.
func (e *env) putDeck(tb testing.TB, b []byte, kind uploads.Kind) string {
	tb.Helper()
	key := uploads.KeyPrefix + uuid.NewString()
	_, err := e.decks.Bucket.Client.PutObject(context.Background(), e.decks.Bucket.Name, key, bytes.NewReader(b), int64(len(b)),
		minio.PutObjectOptions{ContentType: uploads.ContentTypeFor(kind),
			ContentDisposition: uploads.ContentDisposition("Nguyễn Văn An - Lotus Agritech" + uploads.ExtensionFor(kind))})
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

func (e *env) get(tb testing.TB, key string) ([]byte, minio.ObjectInfo) {
	tb.Helper()
	b := e.decks.Bucket
	obj, err := b.Client.GetObject(context.Background(), b.Name, key, minio.GetObjectOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	return data, st
}

// assertClean fails if any team secret is in the deck, PPTX entries
// decompressed.
func assertClean(tb testing.TB, kind uploads.Kind, b []byte) {
	tb.Helper()
	texts := [][]byte{b}
	if kind == uploads.KindPPTX {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			c, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				tb.Fatal(err)
			}
			texts = append(texts, c)
		}
	}
	for _, text := range texts {
		for _, s := range uploads.StripTestSecrets {
			for _, enc := range uploads.SecretEncodings(s) {
				if bytes.Contains(text, enc) {
					tb.Errorf("%q survives in the blind copy", s)
				}
			}
		}
	}
}

// TestBlindCopy, against the embedded S3: the copy lands beside the original
// under key+".blind", its recorded SHA-256 and size are those of the stored
// bytes, it is a clean deck of the same kind, served under a neutral name; a
// second call does not rewrite it (same ETag and LastModified); the original
// is untouched.
func TestBlindCopy(t *testing.T) {
	for _, tc := range []struct {
		kind  uploads.Kind
		build func(testing.TB) []byte
	}{{uploads.KindPDF, uploads.BuildStripTestPDF}, {uploads.KindPPTX, uploads.BuildStripTestPPTX}} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			orig := tc.build(t)
			key := e.putDeck(t, orig, tc.kind)
			_, origSt := e.get(t, key)

			bk, sum, n, err := e.decks.BlindCopy(ctx, key, tc.kind.String())
			if err != nil {
				t.Fatal(err)
			}
			if bk != key+".blind" || !uploads.ValidBlindKey(bk) {
				t.Fatalf("blind key %q", bk)
			}
			blind, st1 := e.get(t, bk)
			if sha(blind) != sum || int64(len(blind)) != n {
				t.Fatalf("recorded %s/%d, stored %s/%d", sum, n, sha(blind), len(blind))
			}
			if kind, err := uploads.Verify(bytes.NewReader(blind), n, uploads.Limits{}); err != nil || kind != tc.kind {
				t.Fatalf("Verify(blind) = %v, %v", kind, err)
			}
			assertClean(t, tc.kind, blind)
			if cd := st1.Metadata.Get("Content-Disposition"); cd != uploads.ContentDisposition("deck"+uploads.ExtensionFor(tc.kind)) {
				t.Errorf("blind copy served as %q", cd)
			}
			if ct := st1.ContentType; ct != uploads.ContentTypeFor(tc.kind) {
				t.Errorf("blind copy content type %q", ct)
			}

			// S3 timestamps have one-second resolution: a rewrite a
			// second later would show.
			time.Sleep(1100 * time.Millisecond)
			bk2, sum2, n2, err := e.decks.BlindCopy(ctx, key, tc.kind.String())
			if err != nil {
				t.Fatal(err)
			}
			if bk2 != bk || sum2 != sum || n2 != n {
				t.Errorf("second call: %s %s %d, first %s %s %d", bk2, sum2, n2, bk, sum, n)
			}
			blind2, st2 := e.get(t, bk)
			if st2.ETag != st1.ETag || !st2.LastModified.Equal(st1.LastModified) || !bytes.Equal(blind2, blind) {
				t.Errorf("second call rewrote the copy: ETag %s → %s, LastModified %v → %v", st1.ETag, st2.ETag, st1.LastModified, st2.LastModified)
			}

			got, st := e.get(t, key)
			if sha(got) != sha(orig) || st.ETag != origSt.ETag || !st.LastModified.Equal(origSt.LastModified) {
				t.Error("the original changed")
			}

			obj, info, err := e.decks.OpenBlind(ctx, bk)
			if err != nil {
				t.Fatal(err)
			}
			_ = obj.Close()
			if info.Size != n {
				t.Errorf("OpenBlind size %d, want %d", info.Size, n)
			}

			// A presigned URL fetches the copy's bytes, not the original's.
			u, err := e.decks.PresignBlindDownload(ctx, bk, "deck"+uploads.ExtensionFor(tc.kind), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, blind) {
				t.Errorf("presigned GET: %d, %d bytes (copy has %d)", resp.StatusCode, len(got), len(blind))
			}
			if _, err := e.decks.PresignBlindDownload(ctx, key, "deck.pdf", time.Minute); !errors.Is(err, uploads.ErrNotFound) {
				t.Errorf("PresignBlindDownload signed a deck key: %v", err)
			}
		})
	}
}

// TestBlindCopyRace: concurrent first calls on a PDF (whose strip differs
// from run to run: pdfcpu stamps the time) all return the one copy stored.
func TestBlindCopyRace(t *testing.T) {
	e := newEnv(t)
	key := e.putDeck(t, uploads.BuildStripTestPDF(t), uploads.KindPDF)
	const n = 4
	type result struct {
		key, sum string
		size     int64
		err      error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			k, s, sz, err := e.decks.BlindCopy(context.Background(), key, "pdf")
			results[i] = result{k, s, sz, err}
		})
	}
	close(start)
	wg.Wait()
	blind, _ := e.get(t, uploads.BlindKey(key))
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
		if r.sum != sha(blind) || r.size != int64(len(blind)) {
			t.Errorf("call %d recorded %s/%d, stored %s/%d", i, r.sum, r.size, sha(blind), len(blind))
		}
	}

	// What makes that hold: the S3 server refuses a write with
	// If-None-Match: * over an existing copy.
	opts := minio.PutObjectOptions{DisableMultipart: true}
	opts.SetMatchETagExcept("*")
	b := e.decks.Bucket
	_, err := b.Client.PutObject(context.Background(), b.Name, uploads.BlindKey(key), bytes.NewReader([]byte("other")), 5, opts)
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 412 {
		t.Errorf("conditional overwrite: %v, want 412", err)
	}
	if again, _ := e.get(t, uploads.BlindKey(key)); !bytes.Equal(again, blind) {
		t.Error("the copy was overwritten")
	}
}

// TestBlindCopyErrors: bad keys and missing decks are ErrNotFound, a deck
// that cannot be stripped is ErrStrip and leaves no copy.
func TestBlindCopyErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, key := range []string{"", "decks/", "decks/../x", "other/" + uuid.NewString(), uploads.KeyPrefix + uuid.NewString() + ".blind"} {
		if _, _, _, err := e.decks.BlindCopy(ctx, key, "pdf"); !errors.Is(err, uploads.ErrNotFound) {
			t.Errorf("BlindCopy(%q): %v, want ErrNotFound", key, err)
		}
	}
	if _, _, _, err := e.decks.BlindCopy(ctx, uploads.KeyPrefix+uuid.NewString(), "pdf"); !errors.Is(err, uploads.ErrNotFound) {
		t.Errorf("missing deck: %v, want ErrNotFound", err)
	}
	key := e.putDeck(t, []byte("%PDF-1.7\nthis is not really a PDF"), uploads.KindPDF)
	if _, _, _, err := e.decks.BlindCopy(ctx, key, "pdf"); !errors.Is(err, uploads.ErrStrip) {
		t.Errorf("damaged deck: %v, want ErrStrip", err)
	}
	if _, _, _, err := e.decks.BlindCopy(ctx, key, "docx"); err == nil {
		t.Error(`kind "docx" accepted`)
	}
	if _, _, err := e.decks.OpenBlind(ctx, uploads.BlindKey(key)); !errors.Is(err, uploads.ErrNotFound) {
		t.Errorf("a copy of the damaged deck exists (%v)", err)
	}
	if _, _, err := e.decks.OpenBlind(ctx, key); !errors.Is(err, uploads.ErrNotFound) {
		t.Errorf("OpenBlind opened a deck key: %v", err)
	}
}

// TestBlindCopySweep: Sweep's orphan pass keeps a blind copy while its deck
// has a record (the store reports the blind key as known through its
// original), and removes it once the deck is discarded.
func TestBlindCopySweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := e.putDeck(t, uploads.BuildStripTestPPTX(t), uploads.KindPPTX)
	if err := e.st.AddPending(ctx, key, "owner-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.MarkReady(ctx, key); err != nil {
		t.Fatal(err)
	}
	bk, _, _, err := e.decks.BlindCopy(ctx, key, "pptx")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	if n, err := e.decks.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want nothing removed", n, err)
	}
	if got := e.objects(t); len(got) != 2 {
		t.Fatalf("after Sweep: %v, want the deck and its copy", got)
	}
	if err := e.decks.Discard(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, err := e.decks.Sweep(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("Sweep after Discard = %d, %v; want the copy removed", n, err)
	}
	if got := e.objects(t); len(got) != 0 {
		t.Fatalf("after Discard and Sweep: %v", got)
	}
	if _, _, err := e.decks.OpenBlind(ctx, bk); !errors.Is(err, uploads.ErrNotFound) {
		t.Errorf("copy still opens: %v", err)
	}
}
