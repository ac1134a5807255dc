package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/sprout-vn/sprout/app/store"
	"github.com/sprout-vn/sprout/models"
)

// Delivery of the outbox. A request that causes an e-mail only writes it to
// the outbox collection (store.QueueMail); this loop sends it afterwards.
// So a slow or unreachable SMTP server never fails or delays a request, and
// nothing is lost while it is down: the message waits in the outbox, is
// retried (UnsentMail stops offering it after models.MailMaxAttempts), and
// staff can always read it on the outbox page.
const (
	mailInterval   = 15 * time.Second
	mailMaxBackoff = 30 * time.Minute
	mailBatch      = 50
	// mailTimeout bounds connecting and each SMTP command, so a server that
	// hangs cannot hold shutdown for long.
	mailTimeout = 20 * time.Second
)

// mailer sends the outbox through one SMTP server.
type mailer struct {
	st     *store.Store
	client *gomail.Client
	from   string
	domain string // of the From address; right-hand side of Message-IDs
	log    *slog.Logger
	wake   chan struct{}
}

// newMailer checks smtpURL (smtp://user:pass@host:port or smtps://…) and
// from (an RFC 5322 address such as "Sprout <no-reply@sprout.example.vn>")
// and builds the client. It does not connect: the server may be down at
// start, and the loop copes with that.
//
// smtps:// speaks TLS from the first byte (port 465 by default). smtp://
// upgrades with STARTTLS when the server offers it and otherwise stays in
// clear text, so a local relay without TLS works (port 587 by default). With
// credentials in the URL the client authenticates with PLAIN or LOGIN,
// whichever the server offers; go-mail sends those only over TLS or to
// localhost, never in clear text across a network.
func newMailer(st *store.Store, smtpURL, from string, log *slog.Logger) (*mailer, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("mailer: SMTP URL must look like smtp://user:pass@host:587 or smtps://…:465")
	}
	port := 587
	opts := []gomail.Option{gomail.WithTimeout(mailTimeout)}
	switch u.Scheme {
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		return nil, fmt.Errorf("mailer: SMTP URL scheme %q: use smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("mailer: SMTP port %q: %w", p, err)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithUsername(user), gomail.WithPassword(pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	client, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: SMTP client: %w", err)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mailer: From address %q: %w", from, err)
	}
	domain := addr.Address[strings.LastIndex(addr.Address, "@")+1:]
	return &mailer{st: st, client: client, from: addr.String(), domain: domain, log: log, wake: make(chan struct{}, 1)}, nil
}

// SendOutbox runs one delivery pass over st's outbox through the SMTP server
// at smtpURL and reports how many messages it delivered. The background loop
// runs the same pass; this entry point is for tests and one-off sends.
func SendOutbox(ctx context.Context, st *store.Store, smtpURL, from string, log *slog.Logger) (sent int, err error) {
	m, err := newMailer(st, smtpURL, from, log)
	if err != nil {
		return 0, err
	}
	return m.pass(ctx)
}

// run delivers the outbox until ctx ends: at once (mail may have been queued
// while Sprout was down), then every mailInterval and whenever nudged. While
// the store or the SMTP server cannot be reached it backs off, doubling the
// wait up to mailMaxBackoff, so that the ten attempts a message gets span
// about two hours of outage rather than two and a half minutes.
func (m *mailer) run(ctx context.Context) {
	wait := mailInterval
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
			if wait > mailInterval {
				continue // backing off: a new message must not spend everyone's attempts
			}
		case <-timer.C:
		}
		sent, err := m.pass(ctx)
		next := mailInterval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = min(wait*2, mailMaxBackoff)
			next = wait
			m.log.Warn("mail delivery failed; will retry", "err", err, "retry_in", wait.String())
		case sent == mailBatch:
			wait, next = mailInterval, 0 // more may be waiting
		default:
			wait = mailInterval
		}
		timer.Reset(next)
	}
}

// nudge asks for a pass now, typically right after a message is queued. It
// never blocks, nudges during a pass fold into one, and a nil mailer (no
// SMTP server configured) ignores it.
func (m *mailer) nudge() {
	if m == nil {
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// pass sends one batch of unsent mail and records every attempt. Its error
// is for the store or SMTP server being unreachable (the caller backs off);
// a message the server refuses is only recorded in the outbox and logged.
func (m *mailer) pass(ctx context.Context) (sent int, err error) {
	batch, err := m.st.UnsentMail(ctx, mailBatch)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	if err := m.client.DialWithContext(ctx); err != nil {
		err = fmt.Errorf("mailer: connect to SMTP server: %w", err)
		for _, om := range batch {
			m.mark(ctx, om.ID, err)
		}
		return 0, err
	}
	defer func() { _ = m.client.Close() }()
	for _, om := range batch {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		msg, err := m.message(om)
		if err == nil {
			err = m.client.Send(msg)
		}
		m.mark(ctx, om.ID, err)
		if err != nil {
			m.log.Warn("mail refused", "id", om.ID, "attempt", om.Attempts+1, "err", err)
			continue
		}
		sent++
	}
	if sent > 0 {
		m.log.Info("mail sent", "count", sent)
	}
	return sent, nil
}

// message builds the e-mail: plain UTF-8 text, quoted-printable, with the
// subject RFC 2047-encoded by go-mail. The Message-ID is derived from the
// outbox id, so if a message is sent but not marked (Sprout stopped in
// between) the copy sent again is recognisable as the same message.
func (m *mailer) message(om models.OutboxMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("mailer: From: %w", err)
	}
	if err := msg.To(om.To); err != nil {
		return nil, fmt.Errorf("mailer: To: %w", err)
	}
	msg.Subject(om.Subject)
	msg.SetMessageIDWithValue(om.ID + "@" + m.domain)
	msg.SetDateWithValue(om.CreatedAt)
	// RFC 3834: auto-responders should not answer a confirmation.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, om.Body)
	return msg, nil
}

// mark records an attempt even while shutting down: a message that went out
// must not stay "unsent" and go out again.
func (m *mailer) mark(ctx context.Context, id string, sendErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := m.st.MarkMail(ctx, id, sendErr); err != nil {
		m.log.Error("record mail attempt", "id", id, "err", err)
	}
}

// nudgingStore is the store as the entry handlers see it: queueing a
// message also nudges the mailer, so a confirmation leaves in seconds rather
// than at the next tick.
type nudgingStore struct {
	*store.Store
	mailer *mailer // nil when no SMTP server is configured
}

// QueueMail puts the message in the outbox and wakes the mailer.
func (s nudgingStore) QueueMail(ctx context.Context, to, subject, body string) error {
	if err := s.Store.QueueMail(ctx, to, subject, body); err != nil {
		return err
	}
	s.mailer.nudge()
	return nil
}
