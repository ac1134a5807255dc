package uploads

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names the S3 service and bucket. The same code talks to MinIO in
// production and to the embedded versitygw by default.
type S3Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	Secure    bool
}

// Bucket is the private bucket that holds pitch decks.
type Bucket struct {
	Client *minio.Client
	Name   string
}

// NewBucket builds the minio-go client. It does not contact the server.
func NewBucket(cfg S3Config) (*Bucket, error) {
	cl, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		// Path-style works with MinIO, versitygw and most S3 services.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("uploads: s3 client: %w", err)
	}
	return &Bucket{Client: cl, Name: cfg.Bucket}, nil
}

// Ensure creates the bucket if it does not exist. New buckets are private.
func (b *Bucket) Ensure(ctx context.Context) error {
	ok, err := b.Client.BucketExists(ctx, b.Name)
	if err != nil {
		return fmt.Errorf("uploads: check bucket %s: %w", b.Name, err)
	}
	if ok {
		return nil
	}
	if err := b.Client.MakeBucket(ctx, b.Name, minio.MakeBucketOptions{}); err != nil {
		// Another instance may have made it meanwhile.
		if ok, err2 := b.Client.BucketExists(ctx, b.Name); err2 == nil && ok {
			return nil
		}
		return fmt.Errorf("uploads: make bucket %s: %w", b.Name, err)
	}
	return nil
}

// Ping checks that the bucket is reachable.
func (b *Bucket) Ping(ctx context.Context) error {
	ok, err := b.Client.BucketExists(ctx, b.Name)
	if err != nil {
		return fmt.Errorf("uploads: bucket %s: %w", b.Name, err)
	}
	if !ok {
		return fmt.Errorf("uploads: bucket %s does not exist", b.Name)
	}
	return nil
}
