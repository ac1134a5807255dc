package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// StoresConfig configures RunStores (the `sprout stores` command).
type StoresConfig struct {
	// DataDir holds mongo/ (FerretDB's SQLite files), socket/ (FerretDB's
	// Unix socket, mongodb.sock), objects/ (the S3 buckets) and
	// s3-credentials.json. "" means "data".
	DataDir string
	// MongoSocket is the Unix socket FerretDB serves (see
	// MongoConfig.Socket); "" means SocketPath(DataDir). FerretDB has no
	// authentication, so it has no TCP listener.
	MongoSocket string
	// S3Addr is the S3 server's loopback host:port; "" picks a free port.
	S3Addr string
	// PostgreSQLURL, when set, makes FerretDB store documents in PostgreSQL
	// instead of SQLite files under DataDir.
	PostgreSQLURL string
	// Mongo and S3 select which servers to run; at least one must be true.
	Mongo, S3 bool
	// Logger may be nil.
	Logger *slog.Logger
}

// RunStores runs the embedded servers on their own, so that several Sprout
// instances on this host (or a CI job) can share one document store and one
// object store. Once they are up it prints to out the environment lines to
// give those instances, one KEY=VALUE per line:
//
//	SPROUT_MONGODB_URI=mongodb://%2FDATA%2Fsocket%2Fmongodb.sock/
//	SPROUT_S3_ENDPOINT=127.0.0.1:PORT
//	SPROUT_S3_ACCESS_KEY=...
//	SPROUT_S3_SECRET_KEY=...
//	SPROUT_S3_SECURE=false
//
// The MongoDB URI names the Unix socket: only processes of this user (and
// root) can connect. It blocks until ctx is cancelled, then stops the
// servers and returns.
func RunStores(ctx context.Context, cfg StoresConfig, out io.Writer) (err error) {
	if !cfg.Mongo && !cfg.S3 {
		return errors.New("embedded: stores: neither Mongo nor S3 selected")
	}

	dataDir := cfg.DataDir
	if dataDir == "" {
		dataDir = "data"
	}

	// Absolute before StartS3 changes the working directory.
	if dataDir, err = filepath.Abs(dataDir); err != nil {
		return fmt.Errorf("embedded: stores: %w", err)
	}

	var lines []string

	if cfg.Mongo {
		socket := cfg.MongoSocket
		if socket == "" {
			socket = SocketPath(dataDir)
		}

		m, startErr := StartMongo(ctx, MongoConfig{
			Dir:           filepath.Join(dataDir, "mongo"),
			Socket:        socket,
			PostgreSQLURL: cfg.PostgreSQLURL,
			Logger:        cfg.Logger,
		})
		if startErr != nil {
			return fmt.Errorf("embedded: stores: %w", startErr)
		}

		// Named result: a failed Close is reported too.
		defer func() { err = errors.Join(err, m.Close()) }()

		lines = append(lines, "SPROUT_MONGODB_URI="+m.URI())

		loggerOrStderr(cfg.Logger).Info("MongoDB protocol on a Unix socket: only this user and root can connect; give instances SPROUT_MONGODB_URI, or run mongosh with it",
			slog.String("socket", m.Socket()), slog.String("uri", m.URI()), slog.Int("uid", os.Geteuid()))
	}

	if cfg.S3 {
		s, startErr := StartS3(ctx, S3Config{
			Dir:             filepath.Join(dataDir, "objects"),
			Addr:            cfg.S3Addr,
			CredentialsFile: filepath.Join(dataDir, "s3-credentials.json"),
			Logger:          cfg.Logger,
		})
		if startErr != nil {
			return fmt.Errorf("embedded: stores: %w", startErr)
		}

		// Named result: a failed Close is reported too.
		defer func() { err = errors.Join(err, s.Close()) }()

		lines = append(lines,
			"SPROUT_S3_ENDPOINT="+s.Endpoint(),
			"SPROUT_S3_ACCESS_KEY="+s.AccessKey(),
			"SPROUT_S3_SECRET_KEY="+s.SecretKey(),
			"SPROUT_S3_SECURE=false",
		)
	}

	for _, l := range lines {
		if _, err = fmt.Fprintln(out, l); err != nil {
			return fmt.Errorf("embedded: stores: %w", err)
		}
	}

	<-ctx.Done()

	return nil
}
