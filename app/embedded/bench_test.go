package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkFindByID measures finds by _id through the driver on the
// embedded SQLite store with 10,000 documents of about 1 KB, without the
// FixIndexes index ("before": FerretDB scans the table) and with it
// ("after").
func BenchmarkFindByID(b *testing.B) {
	const docs = 10_000

	dir := b.TempDir()
	ctx := context.Background()

	m, err := StartMongo(ctx, MongoConfig{Dir: dir, fixInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()

	c := mongoClient(b, m.URI())
	defer c.Disconnect(ctx)

	coll := c.Database("bench").Collection("entries")

	// About 1 KB per document with the other fields; ASCII so that the cut
	// cannot split a UTF-8 sequence.
	filler := strings.Repeat("Startup idea from Lao Cai province. ", 30)[:900]
	batch := make([]any, 0, 1000)

	for i := range docs {
		batch = append(batch, bson.D{
			{Key: "_id", Value: fmt.Sprintf("entry-%05d", i)},
			{Key: "title", Value: fmt.Sprintf("Idea %d", i)},
			{Key: "status", Value: "submitted"},
			{Key: "body", Value: filler},
		})

		if len(batch) == cap(batch) {
			if _, err = coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}

			batch = batch[:0]
		}
	}

	dbFile := filepath.Join(dir, "bench"+sqliteFileExt)
	table := collectionTable(b, dbFile, "entries")

	if indexExists(b, dbFile, table) {
		b.Fatal("index exists before the fix")
	}

	find := func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))

		for b.Loop() {
			id := fmt.Sprintf("entry-%05d", rng.IntN(docs))

			var got struct {
				ID string `bson:"_id"`
			}
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
				b.Fatal(err)
			}

			if got.ID != id {
				b.Fatalf("got %q, want %q", got.ID, id)
			}
		}

		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "finds/s")
	}

	b.Run("before", find)

	if err = m.FixIndexes(ctx); err != nil {
		b.Fatal(err)
	}

	if !indexExists(b, dbFile, table) {
		b.Fatal("index missing after the fix")
	}

	b.Run("after", find)
}
