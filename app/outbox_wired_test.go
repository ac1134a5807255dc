package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// A submitted entry's confirmation leaves through SMTP within seconds (the
// queue nudges the mailer) and staff see it as sent on the outbox page.
func TestSubmitMailDelivered(t *testing.T) {
	peer := startPeer(t, "127.0.0.1:0", "", "")
	cfg := stack.Config(t)
	cfg.SMTPURL, cfg.MailFrom = "smtp://"+peer.addr(), testFrom
	a := apptest.NewApp(t, cfg)
	staff, appl := newClient(t, a), newClient(t, a)
	makeUser(t, a, "canbo@example.vn", models.RoleStaff)
	stok := token(t, staff, "canbo@example.vn", goodPassword)
	register(t, appl, "mai@example.vn")
	atok := token(t, appl, "mai@example.vn", goodPassword)
	now := time.Now()
	r := staff.jsonReq(http.MethodPost, "/api/v1/competitions", map[string]any{
		"title": map[string]string{"vi": "Khởi nghiệp xanh", "en": "Green startups"}, "year": now.Year(),
		"opens_at": now.Add(-time.Hour).Format(time.RFC3339), "closes_at": now.Add(24 * time.Hour).Format(time.RFC3339),
		"tracks": []string{"idea"}, "eligibility": map[string]any{"min_age": 18, "max_age": 35, "max_team": 3},
		"deck": map[string]any{"max_bytes": 20971520},
	}, stok)
	expectStatus(t, r, http.StatusCreated)
	var comp models.Competition
	r.json(t, &comp)
	expectStatus(t, staff.jsonReq(http.MethodPost, "/api/v1/competitions/"+comp.ID+"/transition", map[string]string{"to": "open"}, stok), http.StatusOK)
	r = appl.jsonReq(http.MethodPost, "/api/v1/competitions/"+comp.ID+"/entries", entryBody(), atok)
	expectStatus(t, r, http.StatusCreated)
	var ent models.Entry
	r.json(t, &ent)
	if err := a.Store().AttachDeck(context.Background(), ent.ID, models.Deck{Key: "decks/x", Filename: "deck.pdf", Size: 10,
		SHA256: "00", ContentType: "application/pdf", UploadedAt: now}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the first (empty) pass at start go by
	start := time.Now()
	expectStatus(t, appl.jsonReq(http.MethodPost, "/api/v1/entries/"+ent.ID+"/submit", nil, atok), http.StatusOK)
	for len(peer.messages()) == 0 && time.Since(start) < 10*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	got := peer.messages()
	if len(got) != 1 || got[0].to[0] != "mai@example.vn" {
		t.Fatalf("peer received %+v", got)
	}
	t.Logf("delivered %v after submit", time.Since(start))
	var page string
	for i := 0; i < 50; i++ {
		r = staff.jsonReq(http.MethodGet, "/staff/outbox", nil, stok)
		expectStatus(t, r, http.StatusOK)
		page = r.text()
		if strings.Contains(page, "badge on") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, "mai@example.vn") || !strings.Contains(page, "badge on") {
		t.Fatalf("outbox page:\n%s", page)
	}
	expectStatus(t, appl.jsonReq(http.MethodGet, "/staff/outbox", nil, atok), http.StatusForbidden)
}
