package handlers

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sprout-vn/sprout/models"
	"github.com/sprout-vn/sprout/uploads"
	"github.com/sprout-vn/sprout/views"
)

// ExportStore is what a person's data export reads.
type ExportStore interface {
	MyEntries(ctx context.Context, userID string) ([]models.UserRow, error)
	EntryByID(ctx context.Context, id string) (*models.Entry, error)
	AssignmentsOf(ctx context.Context, judgeID string) ([]models.Assignment, error)
	MailTo(ctx context.Context, email string) ([]models.OutboxMail, error)
	AuditAbout(ctx context.Context, userID string, limit int64) ([]models.AuditEvent, error)
	Audit(ctx context.Context, e models.AuditEvent) error
}

// Exports gives people everything Sprout holds about them (the right of
// access and portability, Law 91/2025/QH15): one ZIP of JSON files, with a
// README describing their fields, and the decks of the entries they lead.
type Exports struct {
	Store ExportStore
	Decks BlindDecks
	Views *views.Views
	Now   func() time.Time
}

// exportAccount is the account as exported: every field but the password
// hash.
type exportAccount struct {
	ID        string           `json:"id"`
	Email     string           `json:"email"`
	Name      string           `json:"name"`
	Roles     []models.Role    `json:"roles"`
	BirthYear int              `json:"birth_year,omitempty"`
	Gender    string           `json:"gender,omitempty"`
	Province  string           `json:"province,omitempty"`
	Commune   string           `json:"commune,omitempty"`
	Phone     string           `json:"phone,omitempty"`
	Locale    string           `json:"locale,omitempty"`
	Consents  []models.Consent `json:"consents"`
	Disabled  bool             `json:"disabled"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

type exportFile struct {
	name string
	v    any
}

// Export handles GET /api/v1/me/export and GET /account/export.
func (h *Exports) Export(c *fiber.Ctx) error {
	u := CurrentUser(c)
	ctx := Ctx(c)
	rows, err := h.Store.MyEntries(ctx, u.ID)
	if err != nil {
		return err
	}
	entries := []*models.Entry{}
	var decks []exportDeck
	for _, r := range rows {
		e, err := h.Store.EntryByID(ctx, r.ID)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		seen := map[string]bool{}
		all := append([]models.Deck(nil), e.DeckHistory...)
		if e.Deck != nil {
			all = append(all, *e.Deck)
		}
		for i, d := range all {
			if d.Key == "" || seen[d.Key] {
				continue
			}
			seen[d.Key] = true
			decks = append(decks, exportDeck{key: d.Key, name: path.Join("decks", e.ID, fmt.Sprintf("%d-%s", i+1, uploads.CleanFilename(d.Filename)))})
		}
	}
	reviews := []models.Assignment{}
	if u.HasRole(models.RoleJudge) {
		if reviews, err = h.Store.AssignmentsOf(ctx, u.ID); err != nil {
			return err
		}
	}
	mail, err := h.Store.MailTo(ctx, u.Email)
	if err != nil {
		return err
	}
	activity, err := h.Store.AuditAbout(ctx, u.ID, 10000)
	if err != nil {
		return err
	}
	files := []exportFile{
		{"user.json", exportAccount{ID: u.ID, Email: u.Email, Name: u.Name, Roles: u.Roles, BirthYear: u.BirthYear, Gender: u.Gender,
			Province: u.Province, Commune: u.Commune, Phone: u.Phone, Locale: u.Locale, Consents: u.Consents, Disabled: u.Disabled,
			CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}},
		{"entries.json", entries},
		{"reviews.json", reviews},
		{"messages.json", mail},
		{"activity.json", activity},
	}
	readme := h.Views.I18n.For(Lang(c)).T("export.readme")
	_ = h.Store.Audit(ctx, models.AuditEvent{Actor: u.ID, Action: "personal:exported", Target: u.ID, IP: c.IP(),
		Detail: fmt.Sprintf("entries=%d decks=%d", len(entries), len(decks))})

	stamp := h.Now().UTC().Format("20060102-150405")
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="sprout-my-data-`+stamp+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The ZIP is written as it is sent: decks are streamed from S3 into it,
	// so memory stays flat whatever their size. The request context ends
	// with the handler, so the stream has a deadline of its own.
	dk := h.Decks
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		zw := zip.NewWriter(w)
		if f, err := zw.Create("README.txt"); err == nil {
			_, _ = io.WriteString(f, readme)
		}
		for _, file := range files {
			f, err := zw.Create(file.name)
			if err != nil {
				return
			}
			enc := json.NewEncoder(f)
			enc.SetIndent("", "  ")
			if err := enc.Encode(file.v); err != nil {
				return
			}
		}
		for _, d := range decks {
			obj, _, err := dk.Open(sctx, d.key)
			if err != nil {
				continue // a deck S3 no longer has; the entry still lists it
			}
			f, err := zw.CreateHeader(&zip.FileHeader{Name: d.name, Method: zip.Store})
			if err == nil {
				_, err = io.Copy(f, obj)
			}
			obj.Close()
			if err != nil {
				return
			}
		}
		_ = zw.Close()
		_ = w.Flush()
	})
	return nil
}

type exportDeck struct{ key, name string }
