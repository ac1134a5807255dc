package embedded

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/versity/versitygw/backend/meta"
)

func TestS3Operations(t *testing.T) {
	s := sharedS3(t)
	c := minioClient(t, s)
	ctx := t.Context()

	const bucket = "ops"
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	if ok, err := c.BucketExists(ctx, bucket); err != nil || !ok {
		t.Fatalf("BucketExists = %v, %v", ok, err)
	}

	// put / stat / get
	body := []byte("xin chào, Lào Cai")
	if _, err := c.PutObject(ctx, bucket, "hello.txt", bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "text/plain; charset=utf-8"}); err != nil {
		t.Fatal(err)
	}

	info, err := c.StatObject(ctx, bucket, "hello.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}

	if info.Size != int64(len(body)) || info.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("stat: size %d, content type %q", info.Size, info.ContentType)
	}

	if got := getObject(t, c, bucket, "hello.txt"); !bytes.Equal(got, body) {
		t.Errorf("get = %q", got)
	}

	// multipart: 6 MiB + a bit in 5 MiB parts is two parts.
	big := make([]byte, 6<<20+12345)
	_, _ = rand.Read(big)

	up, err := c.PutObject(ctx, bucket, "decks/big.pdf", bytes.NewReader(big), int64(len(big)),
		minio.PutObjectOptions{PartSize: 5 << 20, ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}

	if !strings.HasSuffix(strings.Trim(up.ETag, `"`), "-2") {
		t.Errorf("multipart ETag %q, want a 2-part ETag", up.ETag)
	}

	if got := getObject(t, c, bucket, "decks/big.pdf"); sha256.Sum256(got) != sha256.Sum256(big) {
		t.Errorf("multipart object differs: %d bytes back, %d put", len(got), len(big))
	}

	// presigned GET works ...
	u, err := c.PresignedGetObject(ctx, bucket, "hello.txt", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}

	if code, got := httpGet(t, u.String()); code != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("presigned GET: %d %q", code, got)
	}

	// ... but not once tampered with: another key, or another signature.
	other := *u
	other.Path = "/" + bucket + "/decks/big.pdf"
	if code, _ := httpGet(t, other.String()); code != http.StatusForbidden {
		t.Errorf("presigned URL for another key: %d, want 403", code)
	}

	q := u.Query()
	sig := q.Get("X-Amz-Signature")
	flipped := "0"
	if sig[len(sig)-1] == '0' {
		flipped = "1"
	}
	q.Set("X-Amz-Signature", sig[:len(sig)-1]+flipped)
	tampered := *u
	tampered.RawQuery = q.Encode()

	if code, _ := httpGet(t, tampered.String()); code != http.StatusForbidden {
		t.Errorf("tampered signature: %d, want 403", code)
	}

	// ... nor once expired.
	short, err := c.PresignedGetObject(ctx, bucket, "hello.txt", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}

	time.Sleep(2100 * time.Millisecond)

	if code, _ := httpGet(t, short.String()); code != http.StatusForbidden {
		t.Errorf("expired presigned URL: %d, want 403", code)
	}

	// An unsigned request is refused.
	if code, _ := httpGet(t, "http://"+s.Endpoint()+"/"+bucket+"/hello.txt"); code != http.StatusForbidden {
		t.Errorf("unsigned GET: %d, want 403", code)
	}

	// A wrong secret is refused.
	bad, err := minio.New(s.Endpoint(), &minio.Options{Creds: minioStatic(s.AccessKey(), "wrong"+s.SecretKey()[5:])})
	if err != nil {
		t.Fatal(err)
	}

	if _, err = bad.StatObject(ctx, bucket, "hello.txt", minio.StatObjectOptions{}); err == nil {
		t.Error("stat with a wrong secret succeeded")
	}

	// remove
	for _, key := range []string{"hello.txt", "decks/big.pdf"} {
		if err = c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	_, err = c.StatObject(ctx, bucket, "hello.txt", minio.StatObjectOptions{})
	if code := minio.ToErrorResponse(err).Code; code != minio.NoSuchKey {
		t.Errorf("stat after remove: %v (code %q), want NoSuchKey", err, code)
	}

	if err = c.RemoveBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
}

// TestS3Restart checks, in this process, that objects and credentials
// survive Close and StartS3 on the same directories, that the credentials
// file is private, that Close restores the working directory, and that
// Close is safe twice.
func TestS3Restart(t *testing.T) {
	s := sharedS3(t)
	c := minioClient(t, s)

	if err := c.MakeBucket(t.Context(), "keep", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.PutObject(t.Context(), "keep", "deck.pdf", strings.NewReader("%PDF-1.7 kept"), -1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(shared.s3Creds)
	if err != nil {
		t.Fatal(err)
	}

	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("credentials file mode %o, want 600", perm)
	}

	var saved s3Credentials
	data, err := os.ReadFile(shared.s3Creds)
	if err != nil {
		t.Fatal(err)
	}

	if err = json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}

	if saved.AccessKey != s.AccessKey() || saved.SecretKey != s.SecretKey() || len(saved.SecretKey) < 40 {
		t.Errorf("credentials file %s does not hold the server's keys", data)
	}

	endpoint, access, secret := s.Endpoint(), s.AccessKey(), s.SecretKey()

	wd, _ := os.Getwd()
	if wd != shared.s3Dir {
		t.Logf("working directory while running: %s (posix backend)", wd)
	}

	releaseS3(t)

	if err = s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	if code, _ := httpGet(t, "http://"+endpoint+"/"); code != 0 {
		t.Errorf("server still answers after Close: %d", code)
	}

	s = sharedS3(t) // in-process restart

	if s.AccessKey() != access || s.SecretKey() != secret {
		t.Error("credentials changed across restart")
	}

	if got := getObject(t, minioClient(t, s), "keep", "deck.pdf"); string(got) != "%PDF-1.7 kept" {
		t.Errorf("object after restart = %q", got)
	}
}

// TestS3WorkingDirectory documents the posix backend's chdir and checks that
// Close undoes it.
func TestS3WorkingDirectory(t *testing.T) {
	releaseS3(t)

	before, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	s, err := StartS3(t.Context(), S3Config{Dir: filepath.Join(dir, "objects"), CredentialsFile: filepath.Join(dir, "creds.json")})
	if err != nil {
		t.Fatal(err)
	}

	during, _ := os.Getwd()
	if err = s.Close(); err != nil {
		t.Fatal(err)
	}

	after, _ := os.Getwd()

	if during != filepath.Join(dir, "objects") {
		t.Logf("working directory while running: %s", during)
	}

	if after != before {
		t.Errorf("working directory after Close = %s, want %s", after, before)
	}
}

// TestS3OnePerProcess checks that a second gateway is refused before it can
// change the working directory under the running one.
func TestS3OnePerProcess(t *testing.T) {
	s := sharedS3(t)

	wd, _ := os.Getwd()

	dir := t.TempDir()
	other, err := StartS3(t.Context(), S3Config{Dir: filepath.Join(dir, "objects"), CredentialsFile: filepath.Join(dir, "creds.json")})
	if err == nil {
		other.Close()
		t.Fatal("a second S3 started in the same process")
	}

	if now, _ := os.Getwd(); now != wd {
		t.Errorf("working directory changed from %s to %s", wd, now)
	}

	if _, err = os.Stat(filepath.Join(dir, "objects")); err == nil {
		t.Errorf("refused only after creating %s", filepath.Join(dir, "objects"))
	}

	// The running one is unaffected.
	if _, err = minioClient(t, s).ListBuckets(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestPortInUse checks that a taken port fails the S3 server's start-up
// cleanly (FerretDB's busy socket: TestMongoSocketStaleAndBusy), and leaves the working directory and the next start alone.
func TestPortInUse(t *testing.T) {
	releaseS3(t)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	wd, _ := os.Getwd()
	dir := t.TempDir()

	s, err := StartS3(t.Context(), S3Config{Dir: filepath.Join(dir, "objects"), Addr: l.Addr().String(), CredentialsFile: filepath.Join(dir, "c.json")})
	if err == nil {
		s.Close()
		t.Fatal("StartS3 on a taken port succeeded")
	}

	if !isAddrInUse(err) {
		t.Errorf("error %v does not say the address is in use", err)
	}

	if now, _ := os.Getwd(); now != wd {
		t.Errorf("working directory left at %s, was %s", now, wd)
	}

	sharedS3(t) // the one-per-process slot was released
}

func TestLoadOrCreateCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "creds.json")

	first, err := loadOrCreateCredentials(path)
	if err != nil {
		t.Fatal(err)
	}

	if len(first.AccessKey) != 20 || len(first.SecretKey) != 40 {
		t.Errorf("key lengths %d/%d", len(first.AccessKey), len(first.SecretKey))
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", fi.Mode().Perm())
	}

	if err = os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	again, err := loadOrCreateCredentials(path)
	if err != nil {
		t.Fatal(err)
	}

	if again != first {
		t.Error("credentials not re-used")
	}

	if fi, _ = os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o not tightened to 600", fi.Mode().Perm())
	}

	other, err := loadOrCreateCredentials(filepath.Join(t.TempDir(), "c.json"))
	if err != nil {
		t.Fatal(err)
	}

	if other == first {
		t.Error("two fresh credential files hold the same keys")
	}

	if err = os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	if _, err = loadOrCreateCredentials(path); err == nil {
		t.Error("a corrupt credentials file was accepted (or silently replaced)")
	}
}

func TestChooseMetaStorer(t *testing.T) {
	noXattr := func(string) error { return errors.New("xattrs are not supported on this filesystem") }
	xattrOK := func(string) error { return nil }

	dir := filepath.Join(t.TempDir(), "objects")

	ms, sidecar, err := chooseMetaStorer(dir, xattrOK)
	if err != nil || sidecar != "" {
		t.Fatalf("xattrs available: %T %q %v", ms, sidecar, err)
	}

	if _, ok := ms.(meta.XattrMeta); !ok {
		t.Errorf("got %T, want meta.XattrMeta", ms)
	}

	ms, sidecar, err = chooseMetaStorer(dir, noXattr)
	if err != nil || sidecar != dir+".meta" {
		t.Fatalf("no xattrs: %T %q %v", ms, sidecar, err)
	}

	// Once a sidecar directory exists, it stays in use.
	if _, sidecar, _ = chooseMetaStorer(dir, xattrOK); sidecar != dir+".meta" {
		t.Errorf("existing sidecar directory ignored: %q", sidecar)
	}
}

// getObject reads a whole object.
func getObject(t testing.TB, c *minio.Client, bucket, key string) []byte {
	t.Helper()

	o, err := c.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()

	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}

	return b
}

// httpGet does a plain GET and returns the status (0 if the connection
// failed) and body.
func httpGet(t testing.TB, u string) (int, []byte) {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()

	b, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, b
}
