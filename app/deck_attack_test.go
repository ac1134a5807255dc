package app_test

// Attacks on deck uploads over real sockets (issue 7): odd transfers
// (chunked, a huge declared length, trickled bytes) that app.Test cannot
// produce, sent to an instance served on loopback.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// answerWithin is how long a test waits for an answer that must come
// without the client closing its side. It is generous on purpose (a shared
// two-core machine): what is asserted is that the answer comes at all while
// the connection stays open, not how fast.
const answerWithin = 5 * time.Second

// rawConn is one client connection that writes requests byte by byte as a
// test wants them.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, base string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) write(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// answer reads one response within d, the client's side still open. The
// body is read whole.
func (r *rawConn) answer(d time.Duration) (*http.Response, []byte) {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	defer func() { _ = r.c.SetReadDeadline(time.Time{}) }()
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatalf("no answer within %s with the connection open: %v", d, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.t.Fatalf("answer body: %v", err)
	}
	return resp, body
}

// stillUsable sends a GET on the same connection and wants 200: the server
// read the previous request to its end and kept the connection in step.
func (r *rawConn) stillUsable() {
	r.t.Helper()
	r.write("GET /healthz HTTP/1.1\r\nHost: sprout\r\n\r\n")
	resp, body := r.answer(answerWithin)
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("next request on the same connection: %d %s", resp.StatusCode, body)
	}
}

// deckHead is the head of a PUT of a deck, without the body framing
// headers (the caller adds Content-Length or Transfer-Encoding).
func deckHead(entryID, tok, ct string, extra ...string) string {
	h := "PUT /api/v1/entries/" + entryID + "/deck HTTP/1.1\r\nHost: sprout\r\nAuthorization: Bearer " + tok +
		"\r\nContent-Type: " + ct + "\r\nAccept-Language: en\r\n"
	for _, e := range extra {
		h += e + "\r\n"
	}
	return h
}

// writeChunked sends body in chunks of at most size bytes and the last
// chunk, and leaves the connection open.
func (r *rawConn) writeChunked(body []byte, size int) {
	r.t.Helper()
	var b bytes.Buffer
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	if _, err := r.c.Write(b.Bytes()); err != nil {
		r.t.Fatalf("write body: %v", err)
	}
}

// newEntry makes a draft entry of the journey's applicant.
func newEntry(t *testing.T, j *journey) string {
	t.Helper()
	r := j.appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), j.atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	return ent.ID
}

// A chunked upload (no Content-Length) is answered once its last chunk is
// in, with the client's side still open, on the success path and on the
// refusals, and the connection stays usable for the next request. Before
// the fix the body was drained twice; the second drain of a finished
// chunked stream waited on the socket for a chunk that never came, so the
// answer only left when the client gave up.
func TestChunkedDeckUploadAnsweredBeforeClientCloses(t *testing.T) {
	j := newJourney(t)
	base := apptest.Serve(t, j.a)
	entryID := newEntry(t, j)
	pdf := apptest.Fixture(t, "valid-deck.pdf")
	big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 20<<20+1-9)...) // the cap + 1

	for _, tc := range []struct {
		name    string
		entry   string
		file    []byte
		want    int
		storeup bool
	}{
		{"stored", entryID, pdf, http.StatusCreated, true},
		{"unknown entry", "000000000000000000000000", pdf, http.StatusNotFound, false},
		{"over the cap", entryID, big, http.StatusRequestEntityTooLarge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countDecks(t, j)
			ct, body := multipartBody(t, nil, "deck.pdf", tc.file)
			c := dial(t, base)
			c.write(deckHead(tc.entry, j.atok, ct, "Transfer-Encoding: chunked") + "\r\n")
			c.writeChunked(body, 64<<10)
			resp, got := c.answer(answerWithin)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, got)
			}
			if n := countDecks(t, j); (n > before) != tc.storeup {
				t.Fatalf("objects %d → %d", before, n)
			}
			c.stillUsable()
		})
	}
}

// A declared Content-Length far over the cap (1 GiB) is refused with 413
// and the connection closed, without the server waiting for the body: with
// Expect: 100-continue before a byte of it is sent; without, once the
// first 8 KiB are in (fasthttp reads that much before any handler runs),
// the rest never sent. Before, the server read on and waited for the body
// (and would have drained up to 256 MiB of it before answering).
func TestHugeDeclaredDeckRefusedBeforeBody(t *testing.T) {
	j := newJourney(t)
	base := apptest.Serve(t, j.a)
	entryID := newEntry(t, j)
	ct, body := multipartBody(t, nil, "deck.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 16<<10)...))
	const declared = "Content-Length: 1073741824"
	for _, tc := range []struct {
		name  string
		extra []string
		sent  []byte
	}{
		{"expect 100-continue", []string{declared, "Expect: 100-continue"}, nil},
		{"first 8 KiB", []string{declared}, body[:8<<10]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, base)
			c.write(deckHead(entryID, j.atok, ct, tc.extra...) + "\r\n" + string(tc.sent))
			resp, got := c.answer(answerWithin)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
				t.Fatalf("status %d, close %v, want 413 and close: %s", resp.StatusCode, resp.Close, got)
			}
			var e errBody
			if err := json.Unmarshal(got, &e); err != nil || e.Error.Code != "too_large" || e.Error.Message == "" {
				t.Fatalf("413 body %s", got)
			}
			if n := countDecks(t, j); n != 0 {
				t.Fatalf("%d objects stored", n)
			}
		})
	}
}

// slowUpload is an upload that sends head bytes of its body at once and
// then one byte a second, as the attack of issue 7 did, until the server
// answers or the test ends.
type slowUpload struct {
	c      *rawConn
	answer chan slowAnswer
}

type slowAnswer struct {
	resp *http.Response
	body []byte
	err  error
}

func startSlowUpload(t *testing.T, base, entryID, tok string, head int) *slowUpload {
	t.Helper()
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), head)...)
	ct, body := multipartBody(t, nil, "slow.pdf", pdf)
	body = body[:head] // the file never ends
	c := dial(t, base)
	c.write(deckHead(entryID, tok, ct, "Transfer-Encoding: chunked") + "\r\n")
	c.write(fmt.Sprintf("%x\r\n%s\r\n", len(body), body))
	s := &slowUpload{c: c, answer: make(chan slowAnswer, 1)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := io.WriteString(c.c, "1\r\nx\r\n"); err != nil {
					return
				}
			}
		}
	}()
	go func() {
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			s.answer <- slowAnswer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.answer <- slowAnswer{resp: resp, body: b}
	}()
	return s
}

// secondApplicant registers another applicant with an entry in j's
// competition and returns the entry's id and the token.
func secondApplicant(t *testing.T, j *journey) (string, string) {
	t.Helper()
	c := newClient(t, j.a)
	register(t, c, "lan@example.vn")
	tok := token(t, c, "lan@example.vn", goodPassword)
	r := c.jsonReq(http.MethodPost, "/api/v1/competitions/"+j.compID+"/entries", entryBody(), tok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	return ent.ID, tok
}

// putDeck uploads data over a real connection and waits at most within.
func putDeck(t *testing.T, base, entryID, tok string, data []byte, within time.Duration) (*http.Response, []byte) {
	t.Helper()
	ct, body := multipartBody(t, nil, "deck.pdf", data)
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/entries/"+entryID+"/deck", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept-Language", "en")
	resp, err := (&http.Client{Timeout: within}).Do(req)
	if err != nil {
		t.Fatalf("upload not answered within %s: %v", within, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func pendingRecords(t *testing.T, j *journey) int64 {
	t.Helper()
	n, err := j.a.Store().DB().Collection("deck_uploads").CountDocuments(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond every 50 ms for up to answerWithin.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(answerWithin); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, answerWithin)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The attack of issue 7, item 3: six connections of one applicant send
// 20 KB of a PDF, then a byte a second. At most two of them (the
// per-account limit) get an upload slot; the other four are refused at
// once with 429, Retry-After and a message saying why. Another applicant's
// small deck is then stored while both slow uploads still hold their
// slots: it never waits for them. (Bound: it is answered within
// answerWithin; with every slot taken by slow uploads of several accounts,
// it would wait at most SPROUT_UPLOAD_SLOT_WAIT and get 503, see
// TestUploadSlotWaitIsBounded.) Before, the six took all six slots and the
// other deck waited until they ended.
func TestSlowUploaderCannotStallOthers(t *testing.T) {
	j := newJourneyWith(t, func(c *app.Config) { c.UploadRateGrace = 10 * time.Minute }) // no cut-off here
	base := apptest.Serve(t, j.a)
	attackEntry := newEntry(t, j)
	victimEntry, victimTok := secondApplicant(t, j)

	slow := make([]*slowUpload, 6)
	for i := range slow {
		slow[i] = startSlowUpload(t, base, attackEntry, j.atok, 20<<10)
	}
	refused := 0
	answered := make([]bool, len(slow))
	deadline := time.After(2 * answerWithin)
	for refused < 4 {
		select {
		case <-deadline:
			t.Fatalf("%d of the six slow uploads refused, want 4", refused)
		default:
		}
		for i, s := range slow {
			select {
			case a := <-s.answer:
				answered[i] = true
				if a.err != nil {
					t.Fatalf("slow upload: %v", a.err)
				}
				var e errBody
				_ = json.Unmarshal(a.body, &e)
				if a.resp.StatusCode != http.StatusTooManyRequests || a.resp.Header.Get("Retry-After") == "" ||
					e.Error.Code != "too_many_uploads" || !strings.Contains(e.Error.Message, "2 uploads") {
					t.Fatalf("refused slow upload: %d %v %s", a.resp.StatusCode, a.resp.Header, a.body)
				}
				refused++
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, body := putDeck(t, base, victimEntry, victimTok, apptest.Fixture(t, "valid-deck.pdf"), answerWithin)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("other applicant's upload: %d %s", resp.StatusCode, body)
	}
	held := 0
	for i, s := range slow {
		if answered[i] {
			continue
		}
		select {
		case a := <-s.answer:
			t.Fatalf("a slow upload ended before the other applicant's was stored: %+v", a)
		default:
			held++
		}
	}
	if held != 2 {
		t.Fatalf("%d slow uploads still open, want 2", held)
	}
}

// When every slot is taken, an upload waits for one at most the configured
// slot wait and is then answered 503 with Retry-After and a message, rather
// than held in silence. Before, it waited as long as its request lived.
func TestUploadSlotWaitIsBounded(t *testing.T) {
	j := newJourneyWith(t, func(c *app.Config) {
		c.UploadSlots, c.UploadSlotWait, c.UploadRateGrace = 1, time.Second, 10*time.Minute
	})
	base := apptest.Serve(t, j.a)
	startSlowUpload(t, base, newEntry(t, j), j.atok, 20<<10)
	// Its pending record is written once it holds the slot.
	eventually(t, "slow upload holds the slot", func() bool { return pendingRecords(t, j) == 1 })
	victimEntry, victimTok := secondApplicant(t, j)
	resp, body := putDeck(t, base, victimEntry, victimTok, apptest.Fixture(t, "valid-deck.pdf"), answerWithin)
	var e errBody
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "10" ||
		e.Error.Code != "uploads_busy" || e.Error.Message == "" {
		t.Fatalf("upload with every slot taken: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// An upload that trickles in under the minimum rate after the grace period
// is cut off: 408 with a message, the connection closed, its multipart
// upload aborted, its pending record and any object removed. It sends
// 6 MiB at once first, so that a multipart upload is under way (parts of
// 5 MiB) when it slows down. Small configured durations keep it quick.
// Before, it held its slot until the read timeout (10 minutes).
func TestTooSlowUploadIsCutOff(t *testing.T) {
	j := newJourneyWith(t, func(c *app.Config) {
		c.UploadRateGrace, c.UploadRateWindow = time.Second, time.Second
	})
	base := apptest.Serve(t, j.a)
	s := startSlowUpload(t, base, newEntry(t, j), j.atok, 6<<20)
	var a slowAnswer
	select {
	case a = <-s.answer:
	case <-time.After(2 * answerWithin):
		t.Fatalf("slow upload not cut off within %s", 2*answerWithin)
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	var e errBody
	_ = json.Unmarshal(a.body, &e)
	if a.resp.StatusCode != http.StatusRequestTimeout || !a.resp.Close || e.Error.Code != "upload_too_slow" || e.Error.Message == "" {
		t.Fatalf("cut-off answer: %d close=%v %s", a.resp.StatusCode, a.resp.Close, a.body)
	}
	if n := pendingRecords(t, j); n != 0 {
		t.Fatalf("%d pending records left", n)
	}
	if n := countDecks(t, j); n != 0 {
		t.Fatalf("%d objects left", n)
	}
	b := j.a.Bucket()
	for u := range b.Client.ListIncompleteUploads(context.Background(), b.Name, "decks/", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		t.Fatalf("multipart upload left: %s", u.Key)
	}
}

// An upload that ends after the competition's deadline is not attached:
// 409 deadline_passed, its object and pending record removed, the entry
// without a deck. The upload starts before the deadline (it has its pending
// record), then the injected clock passes closes_at, then the rest of the
// file arrives. Before, only the draft status was checked again and the
// deck was attached.
func TestUploadEndingAfterDeadlineNotAttached(t *testing.T) {
	j := newJourney(t)
	base := apptest.Serve(t, j.a)
	entryID := newEntry(t, j)
	ct, body := multipartBody(t, nil, "deck.pdf", apptest.Fixture(t, "valid-deck.pdf"))
	c := dial(t, base)
	c.write(deckHead(entryID, j.atok, ct, "Transfer-Encoding: chunked") + "\r\n")
	first := len(body) / 2
	c.write(fmt.Sprintf("%x\r\n%s\r\n", first, body[:first]))
	eventually(t, "upload under way", func() bool { return pendingRecords(t, j) == 1 })
	j.clk.set(time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)) // closes_at was 16:59:59 UTC
	c.writeChunked(body[first:], 64<<10)
	resp, got := c.answer(answerWithin)
	var e errBody
	_ = json.Unmarshal(got, &e)
	if resp.StatusCode != http.StatusConflict || e.Error.Code != "deadline_passed" || e.Error.Message == "" {
		t.Fatalf("upload ending after the deadline: %d %s", resp.StatusCode, got)
	}
	if ent := entryOf(t, j, entryID); ent.Deck != nil || len(ent.DeckHistory) != 0 {
		t.Fatalf("entry names a deck: %+v", ent.Deck)
	}
	if n := countDecks(t, j); n != 0 {
		t.Fatalf("%d objects left", n)
	}
	if n := pendingRecords(t, j); n != 0 {
		t.Fatalf("%d records left", n)
	}
}
