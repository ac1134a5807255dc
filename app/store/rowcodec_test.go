package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/sprout-vn/sprout/models"
)

func TestListRowCodecRoundTrip(t *testing.T) {
	sub := time.Date(2026, 11, 27, 3, 4, 5, 6000000, time.UTC)
	rows := []models.ListRow{
		{ID: "e-1", Version: 7, Title: "Trà shan tuyết", LeaderName: "Hoàng Thị Mai", Status: models.EntrySubmitted, Track: "idea",
			Sector: "agriculture", Stage: "idea", Commune: "Bắc Hà", WomenLed: true, Search: "tra shan tuyet", FundingNeed: 350000000,
			TeamSize: 3, Deck: "bài thi.pdf", SubmittedAt: &sub, CreatedAt: sub.Add(-time.Hour), UpdatedAt: sub},
		{ID: "e-2", Version: 1, Status: models.EntryDraft, TeamSize: 1, CreatedAt: sub, UpdatedAt: sub, FundingNeed: -1},
	}
	blob, err := encodeRows(map[string]models.ListRow{"e-1": rows[0], "e-2": rows[1]})
	if err != nil || blob.Subtype != deflatedListRows {
		t.Fatalf("encode: %v, subtype %#x", err, blob.Subtype)
	}
	got, err := decodeRows[models.ListRow](blob.Subtype, blob.Data)
	if err != nil || !reflect.DeepEqual(got, rows) {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, rows)
	}
	// Truncated data is refused, not misread.
	raw := appendListRows(nil, rows)
	for n := 1; n < len(raw); n += 7 {
		if _, err := readListRows(raw[:n]); err == nil && n < len(raw) {
			if r, _ := readListRows(raw[:n]); len(r) == 2 {
				t.Fatalf("truncated at %d read as whole", n)
			}
		}
	}
	// User rows keep the BSON form.
	ub, err := encodeRows(map[string]models.UserRow{"e-1": {ID: "e-1", Version: 2, CompetitionID: "c", CreatedAt: sub, UpdatedAt: sub}})
	if err != nil || ub.Subtype != deflatedBSON {
		t.Fatalf("user rows: %v %#x", err, ub.Subtype)
	}
	if u, err := decodeRows[models.UserRow](ub.Subtype, ub.Data); err != nil || len(u) != 1 || u[0].Version != 2 {
		t.Fatalf("user rows decode: %+v %v", u, err)
	}
}
