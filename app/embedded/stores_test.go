package embedded

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestRunStores(t *testing.T) {
	releaseS3(t) // RunStores runs its own gateway; only one fits in a process.

	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	pr, pw := io.Pipe()
	done := make(chan error, 1)

	go func() {
		done <- RunStores(ctx, StoresConfig{
			DataDir: dataDir,
			S3Addr:  "127.0.0.1:0",
			Mongo:   true,
			S3:      true,
		}, pw)
		pw.Close()
	}()

	env := map[string]string{}
	lines := make(chan string)

	go func() {
		defer close(lines)

		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	want := []string{"SPROUT_MONGODB_URI", "SPROUT_S3_ENDPOINT", "SPROUT_S3_ACCESS_KEY", "SPROUT_S3_SECRET_KEY"}
	timeout := time.After(time.Minute)

	for len(env) < len(want)+1 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended early; got %v; RunStores: %v", env, <-done)
			}

			k, v, found := strings.Cut(l, "=")
			if !found {
				t.Fatalf("not a KEY=VALUE line: %q", l)
			}

			env[k] = v
		case <-timeout:
			t.Fatalf("timed out; got %v", env)
		}
	}

	for _, k := range want {
		if env[k] == "" {
			t.Errorf("%s missing from output %v", k, env)
		}
	}

	// Mongo, through the printed URI: the socket in the data directory.
	if want := SocketURI(SocketPath(dataDir)); env["SPROUT_MONGODB_URI"] != want {
		t.Errorf("SPROUT_MONGODB_URI=%s, want %s", env["SPROUT_MONGODB_URI"], want)
	}

	c := mongoClient(t, env["SPROUT_MONGODB_URI"])
	coll := c.Database("sprout").Collection("sessions")

	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "s1"}}); err != nil {
		t.Fatal(err)
	}

	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}

	_ = c.Disconnect(ctx)

	// S3, through the printed endpoint and keys.
	mc, err := minio.New(env["SPROUT_S3_ENDPOINT"], &minio.Options{
		Creds:  minioStatic(env["SPROUT_S3_ACCESS_KEY"], env["SPROUT_S3_SECRET_KEY"]),
		Secure: env["SPROUT_S3_SECURE"] == "true",
	})
	if err != nil {
		t.Fatal(err)
	}

	if err = mc.MakeBucket(ctx, "decks", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err = mc.PutObject(ctx, "decks", "a.pdf", strings.NewReader("deck"), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	if got := getObject(t, mc, "decks", "a.pdf"); string(got) != "deck" {
		t.Errorf("object = %q", got)
	}

	// The data directory has the documented layout.
	for _, p := range []string{"mongo/sprout.sqlite", "socket/" + SocketName, "objects/decks/a.pdf", "s3-credentials.json"} {
		if _, err = os.Stat(filepath.Join(dataDir, p)); err != nil {
			t.Error(err)
		}
	}

	cancel()

	select {
	case err = <-done:
		if err != nil {
			t.Fatalf("RunStores: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunStores did not return after cancel")
	}

	if _, err = os.Lstat(SocketPath(dataDir)); err == nil {
		t.Error("the socket is still there after RunStores returned")
	}
}

// TestRunStoresSocketFlag: MongoSocket puts the socket elsewhere, and the
// printed URI follows it.
func TestRunStoresSocketFlag(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "sprout.sock")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	pr, pw := io.Pipe()
	done := make(chan error, 1)

	go func() {
		done <- RunStores(ctx, StoresConfig{DataDir: t.TempDir(), MongoSocket: sock, Mongo: true}, pw)
		pw.Close()
	}()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("%v; RunStores: %v", err, <-done)
	}

	if want := "SPROUT_MONGODB_URI=" + SocketURI(sock) + "\n"; line != want {
		t.Errorf("printed %q, want %q", line, want)
	}

	c := mongoClient(t, SocketURI(sock))
	if err = c.Database("flag").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Error(err)
	}

	_ = c.Disconnect(ctx)

	cancel()

	if err = <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunStoresNothingSelected(t *testing.T) {
	if err := RunStores(t.Context(), StoresConfig{DataDir: t.TempDir()}, io.Discard); err == nil {
		t.Fatal("RunStores with neither server succeeded")
	}
}
