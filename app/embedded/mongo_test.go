package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestLoopbackAddr(t *testing.T) {
	for in, want := range map[string]string{
		"":                defaultAddr,
		"127.0.0.1:0":     "127.0.0.1:0",
		"127.0.0.1:27017": "127.0.0.1:27017",
		"localhost:9000":  "127.0.0.1:9000",
		"[::1]:0":         "[::1]:0",
		"127.1.2.3:80":    "127.1.2.3:80",
	} {
		got, err := loopbackAddr(in)
		if err != nil || got != want {
			t.Errorf("loopbackAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}

	for _, in := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:27017", "example.com:0", "127.0.0.1", "nonsense"} {
		if got, err := loopbackAddr(in); err == nil {
			t.Errorf("loopbackAddr(%q) = %q, want an error", in, got)
		}
	}
}

// TestStartRejectsNonLoopback checks that the S3 server cannot be made to
// listen beyond loopback, and that the running one does not. (FerretDB has
// no TCP listener at all: TestMongoSocketOnly.)
func TestStartRejectsNonLoopback(t *testing.T) {
	dir := t.TempDir()

	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		s3cfg := S3Config{Dir: filepath.Join(dir, "o"), Addr: addr, CredentialsFile: filepath.Join(dir, "c.json")}
		if s, err := StartS3(t.Context(), s3cfg); err == nil {
			s.Close()
			t.Errorf("StartS3(Addr %q) succeeded", addr)
		}
	}

	host, _, err := net.SplitHostPort(sharedS3(t).Endpoint())
	if err != nil {
		t.Fatal(err)
	}

	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("S3 server listens on %s, want loopback", sharedS3(t).Endpoint())
	}
}

func TestMongoURI(t *testing.T) {
	uri := shared.mongo.URI()
	sock := shared.mongo.Socket()

	if uri != "mongodb://"+url.QueryEscape(sock)+"/" || !filepath.IsAbs(sock) || filepath.Base(sock) != SocketName {
		t.Errorf("URI() = %q, Socket() = %q", uri, sock)
	}

	// The driver reads it back to the same path (net/url cannot: it
	// refuses %2F in a host).
	if got := socketFromURI(t, uri); got != sock {
		t.Errorf("URI() = %q names %q, want %q", uri, got, sock)
	}
}

func TestMongoCRUD(t *testing.T) {
	c := mongoClient(t, shared.mongo.URI())
	coll := c.Database("crud").Collection("items")

	if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "a"}, {Key: "name", Value: "Lào Cai"}}); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Name string `bson:"name"`
	}
	if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}

	if got.Name != "Lào Cai" {
		t.Errorf("name = %q", got.Name)
	}
}

// TestMongoLogsOnlyErrors checks that FerretDB, which logs at INFO and WARN
// for ordinary events and every error reply, only reaches the given logger
// at ERROR.
func TestMongoLogsOnlyErrors(t *testing.T) {
	log, buf := testLogger()

	m, err := StartMongo(t.Context(), MongoConfig{Dir: t.TempDir(), Logger: log, fixInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	c := mongoClient(t, m.URI())

	// An error reply and a connection that comes and goes.
	err = c.Database("logs").RunCommand(t.Context(), bson.D{{Key: "noSuchCommand", Value: 1}}).Err()
	if err == nil {
		t.Fatal("unknown command succeeded")
	}

	_ = c.Disconnect(t.Context())
	m.Close()

	var ferretLines int

	for line := range strings.Lines(buf.String()) {
		var rec struct {
			Level     string `json:"level"`
			Component string `json:"component"`
			Msg       string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %q", err, line)
		}

		if rec.Component != "ferretdb" {
			continue
		}

		ferretLines++

		if rec.Level != slog.LevelError.String() {
			t.Errorf("ferretdb logged at %s: %s", rec.Level, rec.Msg)
		}
	}

	if !strings.Contains(buf.String(), "embedded ferretdb started") {
		t.Errorf("the given logger was not used; got:\n%s", buf)
	}

	t.Logf("%d ferretdb log lines, all at ERROR", ferretLines)
}

func TestMinLevelHandler(t *testing.T) {
	log, buf := testLogger()
	l := errorOnlyLogger(log).With("k", "v").WithGroup("g")

	l.Info("info-line")
	l.Warn("warn-line")
	l.Error("error-line", "x", 1)

	out := buf.String()
	if strings.Contains(out, "info-line") || strings.Contains(out, "warn-line") {
		t.Errorf("below-ERROR records passed:\n%s", out)
	}

	if !strings.Contains(out, "error-line") || !strings.Contains(out, `"k":"v"`) || !strings.Contains(out, `"g":{"x":1}`) {
		t.Errorf("ERROR record missing or lost attributes:\n%s", out)
	}

	if l.Enabled(t.Context(), slog.LevelWarn) {
		t.Error("Enabled(WARN) = true")
	}
}

// ferretFindByIDSQL is the statement FerretDB v1.24.2's SQLite backend runs
// for find {_id: <string or ObjectID>} (internal/backends/sqlite/collection.go,
// Query: prepareSelectClause + " WHERE " + metadata.IDColumn + " = ?"; no
// LIMIT because limit pushdown is off whenever there is a filter).
const ferretFindByIDSQL = `SELECT _ferretdb_sjson FROM %s WHERE _ferretdb_sjson->'$._id' = ?`

// collectionTable returns the SQLite table FerretDB uses for a collection.
func collectionTable(t testing.TB, dbFile, collection string) string {
	t.Helper()

	db, err := openSQLiteFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var table string
	if err = db.QueryRowContext(t.Context(), `SELECT table_name FROM "_ferretdb_collections" WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatalf("%s: %v", dbFile, err)
	}

	return table
}

// queryPlan runs EXPLAIN QUERY PLAN on FerretDB's find-by-_id statement and
// returns the plan's detail lines.
func queryPlan(t testing.TB, dbFile, table, sjsonID string) string {
	t.Helper()

	db, err := openSQLiteFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+strings.Replace(ferretFindByIDSQL, "%s", quoteIdent(table), 1), sjsonID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	var details []string

	for rows.Next() {
		var id, parent, notused int
		var detail string

		if err = rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}

		details = append(details, detail)
	}

	if err = rows.Err(); err != nil {
		t.Fatal(err)
	}

	return strings.Join(details, "\n")
}

// indexExists reports whether the fix's index exists on table.
func indexExists(t testing.TB, dbFile, table string) bool {
	t.Helper()

	db, err := openSQLiteFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var n int
	if err = db.QueryRowContext(t.Context(),
		`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?`, sqliteIDIndexName(table), table,
	).Scan(&n); err != nil {
		t.Fatal(err)
	}

	return n == 1
}

func TestFixIndexes(t *testing.T) {
	c := mongoClient(t, shared.mongo.URI())
	db := c.Database("fixtest")
	coll := db.Collection("things")

	var docs []any
	for i := range 200 {
		docs = append(docs, bson.D{{Key: "_id", Value: "id-" + string(rune('a'+i%26)) + strings.Repeat("x", i)}, {Key: "n", Value: i}})
	}

	oid := bson.NewObjectID()
	docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "n", Value: -1}})

	if _, err := coll.InsertMany(t.Context(), docs); err != nil {
		t.Fatal(err)
	}

	dbFile := filepath.Join(shared.mongoDir, "fixtest"+sqliteFileExt)
	table := collectionTable(t, dbFile, "things")
	index := sqliteIDIndexName(table)

	explain := func() string {
		var res bson.M

		err := db.RunCommand(t.Context(), bson.D{
			{Key: "explain", Value: bson.D{{Key: "find", Value: "things"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: oid}}}}},
		}).Decode(&res)
		if err != nil {
			t.Fatal(err)
		}

		b, err := bson.MarshalExtJSON(res["queryPlanner"], false, false)
		if err != nil {
			t.Fatal(err)
		}

		return string(b)
	}

	// Before: FerretDB's own _id index does not match its query, so SQLite
	// scans the table.
	before := queryPlan(t, dbFile, table, `"id-cxx"`)
	if !strings.Contains(before, "SCAN") || strings.Contains(before, "USING") {
		t.Fatalf("plan before the fix:\n%s\nwant a table scan", before)
	}

	if e := explain(); strings.Contains(e, index) || !strings.Contains(e, "SCAN") {
		t.Fatalf("FerretDB's plan before the fix: %s\nwant a table scan", e)
	}

	for range 2 { // idempotent
		if err := shared.mongo.FixIndexes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	after := queryPlan(t, dbFile, table, `"id-cxx"`)
	if !strings.Contains(after, "SEARCH") || !strings.Contains(after, "USING INDEX "+index) {
		t.Fatalf("plan after the fix:\n%s\nwant SEARCH USING INDEX %s", after, index)
	}

	// FerretDB's own explain runs EXPLAIN QUERY PLAN on one of its pooled
	// connections, which plans with the schema it last loaded: EXPLAIN
	// programs do not check the schema cookie. A real query does check it,
	// notices the new index, reloads the schema and re-prepares; so run one
	// first (the single client uses the same pooled connection).
	if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: oid}}).Err(); err != nil {
		t.Fatal(err)
	}

	if e := explain(); !strings.Contains(e, "USING INDEX "+index) {
		t.Fatalf("FerretDB's plan after the fix: %s\nwant USING INDEX %s", e, index)
	}

	// Finds still return the right documents.
	for id, n := range map[any]int32{"id-cxx": 2, oid: -1} {
		var got struct {
			N int32 `bson:"n"`
		}
		if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
			t.Fatal(err)
		}

		if got.N != n {
			t.Errorf("find %v: n = %d, want %d", id, got.N, n)
		}
	}

	// Dropping the collection drops its table and the index with it; the
	// next fix must not fail or resurrect it.
	if err := coll.Drop(t.Context()); err != nil {
		t.Fatal(err)
	}

	if err := shared.mongo.FixIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestMongoPeriodicFix checks that collections created after start-up get
// the index without anyone calling FixIndexes.
func TestMongoPeriodicFix(t *testing.T) {
	dir := t.TempDir()

	m, err := StartMongo(t.Context(), MongoConfig{Dir: dir, fixInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() }) // after the client's cleanup disconnects

	c := mongoClient(t, m.URI())
	if _, err = c.Database("later").Collection("made").InsertOne(t.Context(), bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}

	dbFile := filepath.Join(dir, "later"+sqliteFileExt)
	table := collectionTable(t, dbFile, "made")

	deadline := time.Now().Add(10 * time.Second)
	for !indexExists(t, dbFile, table) {
		if time.Now().After(deadline) {
			t.Fatal("periodic fix did not create the index")
		}

		time.Sleep(20 * time.Millisecond)
	}
}

// TestMongoRestart checks that data survives Close and StartMongo on the
// same directory, that StartMongo applies the fix to existing collections,
// and that Close is safe twice.
func TestMongoRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet", "there")
	cfg := MongoConfig{Dir: dir, fixInterval: -1}

	m, err := StartMongo(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	c := mongoClient(t, m.URI())
	if _, err = c.Database("keep").Collection("docs").InsertOne(t.Context(), bson.D{{Key: "_id", Value: "k1"}, {Key: "v", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}

	_ = c.Disconnect(t.Context())

	start := time.Now()
	if err = m.Close(); err != nil {
		t.Fatal(err)
	}

	if err = m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	t.Logf("Close took %v", time.Since(start))

	if _, err = net.Dial("unix", m.Socket()); err == nil {
		t.Error("server still accepts connections after Close")
	}

	if _, err = os.Lstat(m.Socket()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after Close: %v; want it gone", err)
	}

	dbFile := filepath.Join(dir, "keep"+sqliteFileExt)
	table := collectionTable(t, dbFile, "docs")

	if indexExists(t, dbFile, table) {
		t.Fatal("index exists before restart; the test cannot tell whether StartMongo fixes")
	}

	m, err = StartMongo(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() }) // after the client's cleanup disconnects

	if !indexExists(t, dbFile, table) {
		t.Error("StartMongo did not fix the existing collection")
	}

	c = mongoClient(t, m.URI())

	var got struct {
		V string `bson:"v"`
	}
	if err = c.Database("keep").Collection("docs").FindOne(t.Context(), bson.D{{Key: "_id", Value: "k1"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}

	if got.V != "kept" {
		t.Errorf("v = %q after restart", got.V)
	}
}

func TestMongoPostgreSQL(t *testing.T) {
	pgURL, stop, err := StartPostgresCluster("")
	if errors.Is(err, ErrNoPostgres) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but PostgreSQL is not available: %v", err)
		}

		t.Skipf("PostgreSQL not available: %v", err)
	}

	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})

	if !strings.HasPrefix(pgURL, "postgres://postgres@127.0.0.1:") || !strings.HasSuffix(pgURL, "/"+pgDatabase) {
		t.Errorf("url = %q", pgURL)
	}

	m, err := StartMongo(t.Context(), MongoConfig{PostgreSQLURL: pgURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() }) // after the client's cleanup disconnects

	c := mongoClient(t, m.URI())
	coll := c.Database("pg").Collection("entries")

	if _, err = coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "e1"}, {Key: "status", Value: "submitted"}}); err != nil {
		t.Fatal(err)
	}

	// A top-level equality filter: pushed down to PostgreSQL.
	var got struct {
		ID string `bson:"_id"`
	}
	if err = coll.FindOne(t.Context(), bson.D{{Key: "status", Value: "submitted"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}

	if got.ID != "e1" {
		t.Errorf("_id = %q", got.ID)
	}

	if err = m.FixIndexes(t.Context()); err != nil {
		t.Errorf("FixIndexes in PostgreSQL mode: %v", err)
	}
}

func TestMongoPostgreSQLUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	// Nothing listens on port 1: start-up must fail, not hang.
	quiet := slog.New(slog.DiscardHandler)
	if m, err := StartMongo(ctx, MongoConfig{PostgreSQLURL: "postgres://postgres@127.0.0.1:1/none", Logger: quiet}); err == nil {
		m.Close()
		t.Fatal("StartMongo with an unreachable PostgreSQL succeeded")
	}
}
