package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/app"
	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/models"
)

const testFrom = "Sprout <no-reply@sprout.example.vn>"

// smtpPeer is a minimal SMTP server for the tests: it speaks EHLO, AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT and records what it
// receives. It is the other end of the wire, not a stand-in for our code.
type smtpPeer struct {
	ln         net.Listener
	user, pass string // when user is set, MAIL needs AUTH PLAIN with these
	wg         sync.WaitGroup
	once       sync.Once

	mu  sync.Mutex
	got []received
}

type received struct {
	from string
	to   []string
	data []byte
	user string // who authenticated, if anyone
}

// startPeer listens on addr ("127.0.0.1:0" for any port) until stop or the
// end of the test.
func startPeer(t *testing.T, addr, user, pass string) *smtpPeer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &smtpPeer{ln: ln, user: user, pass: pass}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.stop)
	return p
}

func (p *smtpPeer) addr() string { return p.ln.Addr().String() }

func (p *smtpPeer) stop() {
	p.once.Do(func() { _ = p.ln.Close(); p.wg.Wait() })
}

func (p *smtpPeer) messages() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}

func (p *smtpPeer) serve() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.session(conn) }()
	}
}

func (p *smtpPeer) session(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			_ = tp.PrintfLine("%s", l)
		}
	}
	reply("220 peer ESMTP")
	var cur received
	authed := ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if p.user != "" {
				reply("250-peer", "250 AUTH PLAIN LOGIN")
			} else {
				reply("250-peer", "250 HELP")
			}
		case "HELO", "NOOP":
			reply("250 ok")
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if mech != "PLAIN" {
				reply("504 unsupported")
				continue
			}
			if ir == "" {
				reply("334 ")
				if ir, err = tp.ReadLine(); err != nil {
					return
				}
			}
			b, _ := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if len(parts) == 3 && parts[1] == p.user && parts[2] == p.pass {
				authed = parts[1]
				reply("235 authenticated")
			} else {
				reply("535 bad credentials")
			}
		case "MAIL":
			if p.user != "" && authed == "" {
				reply("530 authentication required")
				continue
			}
			cur = received{from: bracketed(arg), user: authed}
			reply("250 ok")
		case "RCPT":
			cur.to = append(cur.to, bracketed(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			if cur.data, err = tp.ReadDotBytes(); err != nil {
				return
			}
			p.mu.Lock()
			p.got = append(p.got, cur)
			p.mu.Unlock()
			cur = received{}
			reply("250 queued")
		case "RSET":
			cur = received{}
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// bracketed returns the address in "FROM:<a@b> BODY=…".
func bracketed(s string) string {
	_, s, _ = strings.Cut(s, "<")
	s, _, _ = strings.Cut(s, ">")
	return s
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, stack.MongoURI, apptest.RandomName("t_"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	if err := st.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// outboxRow returns the outbox message sent to to.
func outboxRow(t *testing.T, st *store.Store, to string) models.OutboxMail {
	t.Helper()
	all, err := st.ListOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.To == to {
			return m
		}
	}
	t.Fatalf("no outbox row for %s in %+v", to, all)
	return models.OutboxMail{}
}

// parsed is a received message decoded the way a mail reader would.
type parsed struct {
	rawSubject, subject, contentType, messageID, autoSubmitted, body string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	raw := msg.Header.Get("Subject")
	subject, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		t.Fatalf("decode subject %q: %v", raw, err)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return parsed{rawSubject: raw, subject: subject, contentType: msg.Header.Get("Content-Type"),
		messageID: msg.Header.Get("Message-Id"), autoSubmitted: msg.Header.Get("Auto-Submitted"),
		body: strings.ReplaceAll(string(b), "\r\n", "\n")}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSendOutbox(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	log := apptest.Logger(t)
	peer := startPeer(t, "127.0.0.1:0", "", "")
	smtpURL := "smtp://" + peer.addr()

	const (
		to      = "an.nguyen@example.vn"
		subject = "Đã nhận hồ sơ: Trà shan tuyết Hà Giang – Khởi nghiệp xanh 2026"
		body    = "Chào Nguyễn Văn An,\n\nBan tổ chức đã nhận hồ sơ \"Trà shan tuyết Hà Giang\" của bạn cho cuộc thi Khởi nghiệp xanh 2026; một dòng khá dài để kiểm tra việc ngắt dòng mềm.\nTheo dõi trạng thái: https://sprout.example.vn/entries/123\n\nTrân trọng,\nBan tổ chức\n"
	)
	if err := st.QueueMail(ctx, to, subject, body); err != nil {
		t.Fatal(err)
	}
	sent, err := app.SendOutbox(ctx, st, smtpURL, testFrom, log)
	if err != nil || sent != 1 {
		t.Fatalf("first pass: sent %d, err %v", sent, err)
	}
	got := peer.messages()
	if len(got) != 1 {
		t.Fatalf("peer received %d messages", len(got))
	}
	if got[0].from != "no-reply@sprout.example.vn" || len(got[0].to) != 1 || got[0].to[0] != to {
		t.Fatalf("envelope from %q to %q", got[0].from, got[0].to)
	}
	m := parse(t, got[0].data)
	if !isASCII(m.rawSubject) || !strings.Contains(m.rawSubject, "=?UTF-8?") {
		t.Errorf("subject is not RFC 2047-encoded: %q", m.rawSubject)
	}
	if m.subject != subject {
		t.Errorf("subject decodes to %q, want %q", m.subject, subject)
	}
	if mt, params, err := mime.ParseMediaType(m.contentType); err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q", m.contentType)
	}
	if strings.TrimRight(m.body, "\n") != strings.TrimRight(body, "\n") {
		t.Errorf("body:\n%q\nwant\n%q", m.body, body)
	}
	row := outboxRow(t, st, to)
	if row.SentAt == nil || row.Attempts != 1 || row.Status() != models.MailSent {
		t.Fatalf("after sending: %+v", row)
	}
	if m.messageID != "<"+row.ID+"@sprout.example.vn>" || m.autoSubmitted != "auto-generated" {
		t.Errorf("Message-ID %q, Auto-Submitted %q", m.messageID, m.autoSubmitted)
	}

	// The server goes away: the attempt is recorded and the mail waits.
	const to2 = "binh.tran@example.vn"
	if err := st.QueueMail(ctx, to2, "Xác nhận", "Nội dung"); err != nil {
		t.Fatal(err)
	}
	addr := peer.addr()
	peer.stop()
	if sent, err := app.SendOutbox(ctx, st, smtpURL, testFrom, log); err == nil || sent != 0 {
		t.Fatalf("server down: sent %d, err %v", sent, err)
	}
	row = outboxRow(t, st, to2)
	if row.SentAt != nil || row.Attempts != 1 || row.LastError == "" || row.Status() != models.MailPending {
		t.Fatalf("after a failed attempt: %+v", row)
	}

	// It comes back on the same address: the next pass delivers, and only
	// the waiting message.
	peer = startPeer(t, addr, "", "")
	if sent, err := app.SendOutbox(ctx, st, smtpURL, testFrom, log); err != nil || sent != 1 {
		t.Fatalf("server back: sent %d, err %v", sent, err)
	}
	if got := peer.messages(); len(got) != 1 || got[0].to[0] != to2 {
		t.Fatalf("peer received %+v", got)
	}
	row = outboxRow(t, st, to2)
	if row.SentAt == nil || row.Attempts != 2 {
		t.Fatalf("after retry: %+v", row)
	}
	if sent, err := app.SendOutbox(ctx, st, smtpURL, testFrom, log); err != nil || sent != 0 {
		t.Fatalf("nothing left: sent %d, err %v", sent, err)
	}
}

func TestSendOutboxAuth(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	peer := startPeer(t, "127.0.0.1:0", "sprout", "p@ss:word")
	if err := st.QueueMail(ctx, "chi.le@example.vn", "Xin chào", "Nội dung"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, userinfo string
		sent           int
		wantErr        bool
	}{
		{"wrong password", "sprout:nope", 0, true},
		{"credentials from the URL, percent-decoded", "sprout:p%40ss%3Aword", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent, err := app.SendOutbox(ctx, st, "smtp://"+tt.userinfo+"@"+peer.addr(), testFrom, apptest.Logger(t))
			if (err != nil) != tt.wantErr || sent != tt.sent {
				t.Fatalf("sent %d, err %v", sent, err)
			}
		})
	}
	got := peer.messages()
	if len(got) != 1 || got[0].user != "sprout" {
		t.Fatalf("peer received %+v", got)
	}
	row := outboxRow(t, st, "chi.le@example.vn")
	if row.SentAt == nil || row.Attempts != 2 || !strings.Contains(row.LastError, "535") {
		t.Fatalf("outbox row %+v", row)
	}
}

func TestSendOutboxRejectsBadSettings(t *testing.T) {
	st := openStore(t)
	for _, tt := range []struct{ name, url, from string }{
		{"scheme", "http://mail.example.vn", testFrom},
		{"no host", "smtp://", testFrom},
		{"port", "smtp://mail.example.vn:abc", testFrom},
		{"from", "smtp://mail.example.vn:587", "not an address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := app.SendOutbox(context.Background(), st, tt.url, tt.from, apptest.Logger(t)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
