// Package store is Sprout's persistence: one file per MongoDB collection,
// with its queries beside it. It runs unchanged on MongoDB and on FerretDB v1,
// so it uses only plain finds, conditional updates and unique indexes (no
// transactions, TTL indexes, $lookup or multi-accumulator $group).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/sprout-vn/sprout/models"
)

// Store holds the MongoDB client and Sprout's collections.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	now    func() time.Time

	users    *mongo.Collection
	emails   *mongo.Collection
	sessions *mongo.Collection
	tokens   *mongo.Collection
	throttle *mongo.Collection
	audit    *mongo.Collection

	serverKind // FerretDB or MongoDB; see updateIf
}

// Options tune Open. Now is the clock (tests inject one); nil means time.Now.
type Options struct {
	Now func() time.Time
	// Observe, if set, is called with every command sent to the server
	// (for tests and diagnostics).
	Observe func(*event.CommandStartedEvent)
}

// Open connects to uri and selects database dbName. It does not fail when the
// server is down: the driver reconnects by itself, and /readyz reports it.
func Open(ctx context.Context, uri, dbName string, opt Options) (*Store, error) {
	co := options.Client().ApplyURI(uri).
		SetMonitor(commandMonitor(opt.Observe)).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetTimeout(15 * time.Second)
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	db := client.Database(dbName)
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &Store{
		client:   client,
		db:       db,
		now:      func() time.Time { return now().UTC() },
		users:    db.Collection("users"),
		emails:   db.Collection("user_emails"),
		sessions: db.Collection("sessions"),
		tokens:   db.Collection("tokens"),
		throttle: db.Collection("login_throttle"),
		audit:    db.Collection("audit"),
	}, nil
}

// Close disconnects from the server.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Disconnect(ctx)
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// DB exposes the database for packages that own further collections.
func (s *Store) DB() *mongo.Database { return s.db }

// EnsureIndexes creates every collection and index idempotently. Collections
// are created explicitly so that the embedded stack can index them at start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, map[string]any{})
	if err != nil {
		return fmt.Errorf("store: list collections: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, name := range []string{"users", "user_emails", "sessions", "tokens", "login_throttle", "audit",
		"competitions", "entries", "outbox", "write_claims", "panels", "assignments", "judge_queues", "password_resets", "entry_lists", "user_entries"} {
		if have[name] {
			continue
		}
		if err := s.db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("store: create collection %s: %w", name, err)
		}
	}
	if err := s.ensureDeckUploads(ctx); err != nil {
		return err
	}
	idx := []struct {
		c    *mongo.Collection
		keys any
		uniq bool
	}{
		{s.users, bson.D{{Key: "email", Value: 1}}, true},
		{s.sessions, bson.D{{Key: "expires_at", Value: 1}}, false},
		{s.tokens, bson.D{{Key: "expires_at", Value: 1}}, false},
		{s.tokens, bson.D{{Key: "user_id", Value: 1}}, false},
		{s.audit, bson.D{{Key: "at", Value: 1}}, false},
		{s.db.Collection("entries"), bson.D{{Key: "competition_id", Value: 1}, {Key: "leader_id", Value: 1}}, true},
		{s.db.Collection("entries"), bson.D{{Key: "competition_id", Value: 1}, {Key: "status", Value: 1}}, false},
		{s.db.Collection("outbox"), bson.D{{Key: "created_at", Value: 1}}, false},
		{s.db.Collection("write_claims"), bson.D{{Key: "at", Value: 1}}, false},
		{s.db.Collection("assignments"), bson.D{{Key: "competition_id", Value: 1}, {Key: "judge_id", Value: 1}}, false},
	}
	for _, i := range idx {
		m := mongo.IndexModel{Keys: i.keys, Options: options.Index().SetUnique(i.uniq)}
		if _, err := i.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("store: index on %s: %w", i.c.Name(), err)
		}
	}
	return nil
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")
}

// notFound maps the driver's no-documents error onto models.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return models.ErrNotFound
	}
	return err
}

// unavailable marks errors that mean the server could not be reached, so the
// app answers 503 instead of 500.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, new(topology.ServerSelectionError)) || errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("%w: %w", models.ErrUnavailable, err)
	}
	return err
}

// commandMonitor adds each command's round-trip time to the request's DB
// timer, if the context carries one (see WithDBTimer).
func commandMonitor(observe func(*event.CommandStartedEvent)) *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if observe != nil {
				observe(e)
			}
		},
		Succeeded: func(ctx context.Context, e *event.CommandSucceededEvent) {
			if t := DBTimerFrom(ctx); t != nil {
				t.Add(e.Duration)
			}
		},
		Failed: func(ctx context.Context, e *event.CommandFailedEvent) {
			if t := DBTimerFrom(ctx); t != nil {
				t.Add(e.Duration)
			}
		},
	}
}
