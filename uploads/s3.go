package uploads

import (
	"context"
	"fmt"
	"net/url"
	"sync"

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
	// PublicURL is the address browsers reach S3 at, http(s)://host[:port]
	// (when Endpoint is internal, e.g. a loopback or private address).
	// Presigned download URLs are signed for it; empty signs them for
	// Endpoint.
	PublicURL string
}

// Bucket is the private bucket that holds pitch decks.
type Bucket struct {
	Client *minio.Client
	Name   string

	cfg    S3Config
	mu     sync.Mutex
	public *minio.Client // presigns for cfg.PublicURL; made on first use
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
	if cfg.PublicURL != "" {
		if _, _, err := publicEndpoint(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	return &Bucket{Client: cl, Name: cfg.Bucket, cfg: cfg}, nil
}

// publicEndpoint splits a public URL into minio-go's host and secure flag.
func publicEndpoint(raw string) (host string, secure bool, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", false, fmt.Errorf("uploads: public S3 URL %q: want http(s)://host[:port]", raw)
	}
	return u.Host, u.Scheme == "https", nil
}

// presigner returns the client presigned URLs are made with: one for the
// public URL if there is one, else Client. The public one is made with the
// bucket's region, read once through Client, because a presigning client
// that does not know it asks the server, and the public address may not be
// reachable from here.
func (b *Bucket) presigner(ctx context.Context) (*minio.Client, error) {
	if b.cfg.PublicURL == "" {
		return b.Client, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.public != nil {
		return b.public, nil
	}
	region, err := b.Client.GetBucketLocation(ctx, b.Name)
	if err != nil {
		return nil, err
	}
	host, secure, err := publicEndpoint(b.cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	cl, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(b.cfg.AccessKey, b.cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("uploads: s3 client for %s: %w", b.cfg.PublicURL, err)
	}
	b.public = cl
	return cl, nil
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
