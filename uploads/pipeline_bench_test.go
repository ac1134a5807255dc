package uploads_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/sprout-vn/sprout/uploads"
)

// benchSize is a large deck: a 25 MB PDF.
const benchSize = 25_000_000

var benchInput struct {
	once sync.Once
	file []byte // the deck
	body []byte // the deck in a multipart form, as a browser sends it
	ct   string
}

func benchDeck(b *testing.B) (file, body []byte, ct string) {
	benchInput.once.Do(func() {
		benchInput.file = pdfOfSize(benchSize)
		benchInput.body, benchInput.ct = form(b, "deck.pdf", benchInput.file)
	})
	return benchInput.file, benchInput.body, benchInput.ct
}

// runConcurrently runs conc copies of upload per iteration and, with the
// timer stopped, removes what they stored so the disk does not fill up.
// b.SetBytes counts all conc uploads, so MB/s is aggregate throughput.
func runConcurrently(b *testing.B, e *env, conc int, upload func(ctx context.Context) (key string, err error)) {
	file, _, _ := benchDeck(b)
	ctx := context.Background()
	b.SetBytes(int64(conc * len(file)))
	b.ResetTimer()
	for range b.N {
		keys := make([]string, conc)
		errs := make([]error, conc)
		var wg sync.WaitGroup
		for i := range conc {
			wg.Go(func() { keys[i], errs[i] = upload(ctx) })
		}
		wg.Wait()
		b.StopTimer()
		for i, key := range keys {
			if errs[i] != nil {
				b.Fatalf("upload %d: %v", i, errs[i])
			}
			_ = e.decks.Discard(ctx, key)
		}
		b.StartTimer()
	}
}

// BenchmarkReceive measures the whole pipeline for a 25 MB PDF: multipart
// parsing, sniffing, the pending record, the streamed put with unknown size
// (5 MiB parts), SHA-256, and the stat check.
func BenchmarkReceive(b *testing.B) {
	_, body, ct := benchDeck(b)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			e := newEnv(b)
			runConcurrently(b, e, conc, func(ctx context.Context) (string, error) {
				deck, err := e.decks.Receive(ctx, bytes.NewReader(body), ct, benchSize, "bench")
				if err != nil {
					return "", err
				}
				return deck.Key, nil
			})
		})
	}
}

// BenchmarkPutObject is the baseline: the same bytes straight to the same
// server with minio-go's PutObject and a known size (its defaults otherwise).
func BenchmarkPutObject(b *testing.B) {
	file, _, _ := benchDeck(b)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			e := newEnv(b)
			bk := e.decks.Bucket
			runConcurrently(b, e, conc, func(ctx context.Context) (string, error) {
				key := uploads.KeyPrefix + uuid.NewString()
				_, err := bk.Client.PutObject(ctx, bk.Name, key, bytes.NewReader(file), int64(len(file)),
					minio.PutObjectOptions{ContentType: uploads.ContentTypePDF})
				return key, err
			})
		})
	}
}
