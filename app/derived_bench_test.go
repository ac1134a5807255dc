package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sprout-vn/sprout/app/apptest"
	"github.com/sprout-vn/sprout/models"
)

// BenchmarkCompetitionRows: the staff list's read, at 500 entries, on the
// test stack (go test -run '^$' -bench CompetitionRows ./app/).
func BenchmarkCompetitionRows(b *testing.B) {
	a := apptest.NewApp(b, stack.Config(b))
	ctx := context.Background()
	st := a.Store()
	comp := &models.Competition{Title: models.Text{VI: "Thi"}, Year: 2026}
	if err := st.CreateCompetition(ctx, comp); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		e := &models.Entry{CompetitionID: comp.ID, LeaderID: fmt.Sprintf("u-%d", i), LeaderName: "Hoàng Thị Mai",
			Dossier: models.Dossier{Title: fmt.Sprintf("Trà shan tuyết Bắc Hà số %d", i), Commune: "Bắc Hà", Track: "idea", Sector: "agriculture"},
			Team:    []models.Member{{Name: "Lù Văn Sinh"}, {Name: "Giàng Thị Mỷ"}}}
		if err := st.CreateEntry(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	// The test stack indexes new collection tables every 30 s (FixIndexes),
	// as sprout serve does at start: wait for it.
	time.Sleep(31 * time.Second)
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			rows, err := st.CompetitionRows(ctx, comp.ID)
			if err != nil || len(rows) != 500 {
				b.Fatal(len(rows), err)
			}
		}
	})
	b.Run("one bucket, raw", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.DB().Collection("entry_lists").FindOne(ctx, bson.M{"_id": comp.ID + ":0"}).Raw(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one entry, raw", func(b *testing.B) {
		var e bson.M
		_ = st.DB().Collection("entries").FindOne(ctx, bson.M{}).Decode(&e)
		for b.Loop() {
			if _, err := st.DB().Collection("entries").FindOne(ctx, bson.M{"_id": e["_id"]}).Raw(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("competition", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.CompetitionByID(ctx, comp.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
