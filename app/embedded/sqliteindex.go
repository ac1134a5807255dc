package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", the one FerretDB uses
)

// These mirror FerretDB v1.24.2's SQLite backend
// (internal/backends/sqlite/metadata): each database is a file DB.sqlite in
// the directory, each collection a table listed in _ferretdb_collections, and
// every document is JSON in the _ferretdb_sjson column. FerretDB v1 is final,
// so they will not move.
const (
	// sqliteFileExt is pool.filenameExtension.
	sqliteFileExt = ".sqlite"
	// sqliteMetadataTable is metadata.metadataTableName; its table_name
	// column names each collection's table.
	sqliteMetadataTable = "_ferretdb_collections"
	// sqliteIDExpr is metadata.IDColumn, the expression FerretDB's queries
	// use for a find by _id ("... WHERE _ferretdb_sjson->'$._id' = ?").
	// FerretDB's own unique _id index is on _ferretdb_sjson->"_id", which
	// SQLite's planner does not match against it, so every find by _id is a
	// full table scan unless an index on exactly this expression exists.
	sqliteIDExpr = `_ferretdb_sjson->'$._id'`
	// sqliteIDIndexPrefix starts the name of the index FixIndexes adds.
	// FerretDB names its indexes TABLE_INDEXNAME and rejects collection
	// names starting with _ferretdb_, so this cannot collide with them.
	sqliteIDIndexPrefix = "_ferretdb_sprout_id_"
)

// sqliteIDIndexName returns the name of the index FixIndexes makes on table.
func sqliteIDIndexName(table string) string {
	return sqliteIDIndexPrefix + table
}

// FixIndexes makes finds by _id use an index on the SQLite backend: on every
// collection table of every FerretDB database file in the directory it
// creates, if missing, an index on _ferretdb_sjson->'$._id' (the expression
// FerretDB's queries use, unlike its own _id index). This turns a find by _id
// from a scan of the whole collection into an index lookup. It is idempotent
// and safe while FerretDB runs (it waits on SQLite's locks); StartMongo runs
// it at start-up and periodically. It does nothing in PostgreSQL mode.
func (m *Mongo) FixIndexes(ctx context.Context) error {
	if m.dir == "" {
		return nil
	}

	m.fixMu.Lock()
	defer m.fixMu.Unlock()

	if err := fixSQLiteIndexes(ctx, m.dir); err != nil {
		return fmt.Errorf("embedded: fix ferretdb _id indexes: %w", err)
	}

	return nil
}

// fixSQLiteIndexes applies the _id index fix to each database file in dir.
func fixSQLiteIndexes(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}

	var errs []error

	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), sqliteFileExt) {
			continue
		}

		if err := fixSQLiteFile(ctx, filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
		}
	}

	return errors.Join(errs...)
}

// openSQLiteFile opens an existing FerretDB database file in the same way
// FerretDB does (same driver, same URI form), without ever creating one.
func openSQLiteFile(path string) (*sql.DB, error) {
	// mode=rw: a file deleted meanwhile (dropDatabase) must not be
	// re-created empty. busy_timeout: wait for FerretDB's writers instead of
	// failing with SQLITE_BUSY. The file is already in WAL mode.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}

	db.SetMaxOpenConns(1)

	return db, nil
}

// fixSQLiteFile creates the missing _id indexes in one database file.
func fixSQLiteFile(ctx context.Context, path string) error {
	db, err := openSQLiteFile(path)
	if err != nil {
		return err
	}
	defer db.Close()

	tables, err := sqliteCollectionTables(ctx, db)
	if err != nil {
		return err
	}

	if len(tables) == 0 {
		return nil
	}

	existing := map[string]bool{}

	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index'`)
	if err != nil {
		return err
	}

	for rows.Next() {
		var name string
		if err = rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}

		existing[name] = true
	}

	if err = errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}

	for _, table := range tables {
		name := sqliteIDIndexName(table)
		if existing[name] {
			// Checked first so that the periodic run takes no write lock
			// when there is nothing to do.
			continue
		}

		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, quoteIdent(name), quoteIdent(table), sqliteIDExpr)
		if _, err = db.ExecContext(ctx, q); err != nil {
			// The collection may have been dropped since it was listed.
			if strings.Contains(err.Error(), "no such table") {
				continue
			}

			return fmt.Errorf("create index on %s: %w", table, err)
		}
	}

	return nil
}

// sqliteCollectionTables lists the collection tables of a FerretDB database
// file; none if FerretDB has not created its metadata table yet.
func sqliteCollectionTables(ctx context.Context, db *sql.DB) ([]string, error) {
	var n int

	err := db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, sqliteMetadataTable,
	).Scan(&n)
	if err != nil {
		return nil, err
	}

	if n == 0 {
		return nil, nil
	}

	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT table_name FROM %s`, quoteIdent(sqliteMetadataTable)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var tables []string

	for rows.Next() {
		var t string
		if err = rows.Scan(&t); err != nil {
			return nil, err
		}

		tables = append(tables, t)
	}

	return tables, rows.Err()
}

// quoteIdent quotes an SQLite identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
