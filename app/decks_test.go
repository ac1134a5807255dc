package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

func multipartBody(t *testing.T, fields map[string]string, filename string, data []byte) (string, []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile("deck", filename)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (c *client) upload(method, path, token, filename string, data []byte) *response {
	c.t.Helper()
	ct, body := multipartBody(c.t, nil, filename, data)
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req)
}

func countDecks(t *testing.T, j *journey) int {
	n := 0
	for o := range j.a.Bucket().Client.ListObjects(context.Background(), j.a.Bucket().Name, minio.ListObjectsOptions{Prefix: "decks/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	return n
}

func TestDeckUploadAPI(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	path := "/api/v1/entries/" + ent.ID + "/deck"

	pdf := apptest.Fixture(t, "valid-deck.pdf")
	r = j.appl.upload(http.MethodPut, path, j.atok, "../../etc/Bài thi\u202Efdp.exe", pdf)
	expectStatus(t, r, http.StatusCreated)
	var got struct {
		Filename    string `json:"filename"`
		SHA256      string `json:"sha256"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	}
	r.json(t, &got)
	sum := sha256.Sum256(pdf)
	if got.SHA256 != hex.EncodeToString(sum[:]) || got.Size != int64(len(pdf)) || got.ContentType != "application/pdf" {
		t.Fatalf("upload answer %+v", got)
	}
	if strings.ContainsAny(got.Filename, "/\\\u202E") || !strings.HasSuffix(got.Filename, ".pdf") {
		t.Fatalf("filename not cleaned: %q", got.Filename)
	}
	// Its record stays pending (no write spent on it during the
	// request); a sweep long after keeps the deck, because the entry names
	// it, and marks the record ready.
	e0, _ := j.a.Store().EntryByID(context.Background(), ent.ID)
	if st := deckRecordStatus(t, j, e0.Deck.Key); st != "pending" {
		t.Fatalf("record of the new deck: %q, want pending", st)
	}
	j.clk.set(j.clk.now().Add(3 * time.Hour))
	if _, err := j.a.Decks().Sweep(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if st := deckRecordStatus(t, j, e0.Deck.Key); st != "ready" {
		t.Fatalf("record of the attached deck after a sweep: %q, want ready", st)
	}
	j.clk.set(j.clk.now().Add(-3 * time.Hour))
	// A second version replaces it and the first is kept in the history.
	r = j.appl.upload(http.MethodPut, path, j.atok, "deck.pptx", apptest.Fixture(t, "valid-deck.pptx"))
	expectStatus(t, r, http.StatusCreated)
	e, _ := j.a.Store().EntryByID(context.Background(), ent.ID)
	if len(e.DeckHistory) != 2 || e.Deck.ContentType != "application/vnd.openxmlformats-officedocument.presentationml.presentation" || !strings.HasPrefix(e.Deck.Key, "decks/") {
		t.Fatalf("deck history %+v", e.DeckHistory)
	}

	// Bad files: 415 naming what was found, nothing stored.
	before := countDecks(t, j)
	for _, bad := range []struct{ file, found string }{
		{"exe-renamed.pdf", "executable"}, {"html-renamed.pdf", "HTML"}, {"png-renamed.pdf", "PNG"},
		{"zip-renamed.pptx", "ZIP"}, {"docx-renamed.pptx", "DOCX"}, {"pptm-renamed.pptx", "PPTM"},
		{"odp-renamed.pptx", "ODP"}, {"polyglot-html.pdf", "HTML"}, {"encrypted.pptx", "OLE"},
	} {
		j.appl.lang = "en"
		r = j.appl.upload(http.MethodPut, path, j.atok, bad.file, apptest.Fixture(t, bad.file))
		expectStatus(t, r, http.StatusUnsupportedMediaType)
		if !strings.Contains(r.text(), bad.found) {
			t.Errorf("%s: message does not name %q: %s", bad.file, bad.found, r.body)
		}
	}
	for _, bomb := range []string{"zipbomb.pptx", "zipbomb-entries.pptx", "zipbomb-total.pptx", "zipbomb-declared.pptx"} {
		r = j.appl.upload(http.MethodPut, path, j.atok, "bomb.pptx", apptest.Fixture(t, bomb))
		if r.StatusCode != http.StatusRequestEntityTooLarge && r.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("%s: %d %s", bomb, r.StatusCode, r.body)
		}
	}
	if after := countDecks(t, j); after != before {
		t.Fatalf("rejected uploads left objects: %d → %d", before, after)
	}

	// Over the competition's limit: 413.
	big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 20<<20)...)
	r = j.appl.upload(http.MethodPut, path, j.atok, "big.pdf", big)
	expectStatus(t, r, http.StatusRequestEntityTooLarge)

	// Download: the owner and staff get the bytes as an attachment; another
	// applicant gets 404.
	r = j.appl.jsonReq(http.MethodGet, path, nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers %v", r.Header)
	}
	if !bytes.Equal(r.body, apptest.Fixture(t, "valid-deck.pptx")) {
		t.Fatal("downloaded bytes differ")
	}
	expectStatus(t, j.staff.jsonReq(http.MethodGet, path, nil, j.stok), http.StatusOK)
	other := newClient(t, j.a)
	register(t, other, "x@example.vn")
	otok := token(t, other, "x@example.vn", goodPassword)
	expectStatus(t, other.jsonReq(http.MethodGet, path, nil, otok), http.StatusNotFound)
	expectStatus(t, other.upload(http.MethodPut, path, otok, "d.pdf", pdf), http.StatusNotFound)
	// Without a public S3 URL, ?redirect=1 streams the bytes too rather
	// than redirect a browser to the internal S3 address (see
	// TestDeckRedirectUsesPublicS3URL).
	r = j.appl.jsonReq(http.MethodGet, path+"?redirect=1", nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Location") != "" || !bytes.Equal(r.body, apptest.Fixture(t, "valid-deck.pptx")) ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("?redirect=1 without a public S3 URL: %d %v", r.StatusCode, r.Header)
	}
}

// With SPROUT_S3_PUBLIC_URL set, ?redirect=1 answers with a presigned URL
// for that address (here the test gateway under the name localhost, which
// the internal endpoint 127.0.0.1 is not), which expires within minutes,
// names the file, and works. Before, the URL named the internal endpoint,
// unreachable for remote browsers.
func TestDeckRedirectUsesPublicS3URL(t *testing.T) {
	host, port, err := net.SplitHostPort(stack.S3.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if host == "127.0.0.1" {
		host = "localhost"
	}
	scheme := "http://"
	if stack.S3.Secure {
		scheme = "https://"
	}
	public := scheme + net.JoinHostPort(host, port)
	j := newJourneyWith(t, func(c *app.Config) { c.S3PublicURL = public })
	entryID := newEntry(t, j)
	path := "/api/v1/entries/" + entryID + "/deck"
	pdf := apptest.Fixture(t, "valid-deck.pdf")
	expectStatus(t, j.appl.upload(http.MethodPut, path, j.atok, "deck.pdf", pdf), http.StatusCreated)
	r := j.appl.jsonReq(http.MethodGet, path+"?redirect=1", nil, j.atok)
	expectStatus(t, r, http.StatusFound)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, public+"/") || !strings.Contains(loc, "X-Amz-Expires=300") || !strings.Contains(loc, "response-content-disposition=attachment") {
		t.Fatalf("presigned URL %s, want one for %s", loc, public)
	}
	resp, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, pdf) {
		t.Fatalf("presigned GET %d", resp.StatusCode)
	}
	// Without redirect=1 the bytes still come through the app.
	r = j.appl.jsonReq(http.MethodGet, path, nil, j.atok)
	expectStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, pdf) {
		t.Fatal("streamed bytes differ")
	}
}

func TestDeckUploadHTMLForm(t *testing.T) {
	j := newJourney(t)
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	var ent models.Entry
	r.json(t, &ent)
	c := newClient(t, j.a)
	expectStatus(t, c.signIn("mai@example.vn", goodPassword), http.StatusSeeOther)
	tok := c.csrfFrom("/entries/" + ent.ID)
	// Without the token: 403 and nothing stored.
	r = c.upload(http.MethodPost, "/entries/"+ent.ID+"/deck", "", "deck.pdf", apptest.Fixture(t, "valid-deck.pdf"))
	expectStatus(t, r, http.StatusForbidden)
	if countDecks(t, j) != 0 {
		t.Fatal("upload without CSRF token stored an object")
	}
	r = c.upload(http.MethodPost, "/entries/"+ent.ID+"/deck?_csrf="+tok, "", "deck.pdf", apptest.Fixture(t, "valid-deck.pdf"))
	expectStatus(t, r, http.StatusSeeOther)
	r = c.get("/entries/" + ent.ID)
	if !strings.Contains(r.text(), "deck.pdf") || !strings.Contains(r.text(), "Đã tải lên bài thuyết trình") {
		t.Fatalf("entry page after upload: %.3000s", r.body)
	}
	// A bad file re-renders the page with the reason, in Vietnamese.
	r = c.upload(http.MethodPost, "/entries/"+ent.ID+"/deck?_csrf="+tok, "", "x.pdf", apptest.Fixture(t, "png-renamed.pdf"))
	expectStatus(t, r, http.StatusUnsupportedMediaType)
	if !strings.Contains(r.text(), "Chỉ nhận tệp PDF hoặc PPTX") {
		t.Fatalf("415 page: %.3000s", r.body)
	}
	// And now the entry can be submitted.
	r = c.form("/entries/"+ent.ID+"/submit", map[string][]string{}, tok)
	expectStatus(t, r, http.StatusSeeOther)
	e, _ := j.a.Store().EntryByID(context.Background(), ent.ID)
	if e.Status != models.EntrySubmitted {
		t.Fatalf("status %s", e.Status)
	}
}

// deckRecordStatus reads the status of the deck_uploads record of key.
func deckRecordStatus(t *testing.T, j *journey, key string) string {
	t.Helper()
	var rec struct {
		Status string `bson:"status"`
	}
	if err := j.a.Store().DB().Collection("deck_uploads").FindOne(context.Background(), bson.M{"_id": key}).Decode(&rec); err != nil {
		t.Fatalf("record of %s: %v", key, err)
	}
	return rec.Status
}
