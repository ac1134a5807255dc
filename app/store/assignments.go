package store

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sprout-vn/sprout/models"
)

// Assignments: one document per (round, entry, judge), _id derived from the
// four ids (models.AssignmentID), holding the review. Beside them, each
// judge has a queue document per competition (models.JudgeQueue) so that
// the judge's home and the chair's loads are reads by _id, never a scan.
// The assignment is always written first; its queue row second. A row left
// behind by a crash between the two is put right by SyncQueueRow when the
// assignment is next read, and RebuildQueues makes the queues again from
// the assignments (after an assignment run, and at start-up).

func (s *Store) assignments() *mongo.Collection { return s.db.Collection("assignments") }
func (s *Store) queues() *mongo.Collection      { return s.db.Collection("judge_queues") }

// AssignmentByID returns one assignment.
func (s *Store) AssignmentByID(ctx context.Context, id string) (*models.Assignment, error) {
	var a models.Assignment
	if err := s.assignments().FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		return nil, unavailable(fmt.Errorf("store: assignment %s: %w", id, notFound(err)))
	}
	return &a, nil
}

// FindAssignment returns the assignment of judge to entry in round, by its
// derived _id.
func (s *Store) FindAssignment(ctx context.Context, compID, round, entryID, judgeID string) (*models.Assignment, error) {
	return s.AssignmentByID(ctx, models.AssignmentID(compID, round, entryID, judgeID))
}

// InsertAssignments stores new assignments; one that exists already (the
// same triple) is left as it is.
func (s *Store) InsertAssignments(ctx context.Context, as []*models.Assignment) error {
	now := s.now()
	for _, a := range as {
		a.ID = models.AssignmentID(a.CompetitionID, a.Round, a.EntryID, a.JudgeID)
		a.Version = 1
		if a.Status == "" {
			a.Status = models.AssignPending
		}
		a.CreatedAt, a.UpdatedAt = now, now
		if _, err := s.assignments().InsertOne(ctx, a); err != nil && !mongo.IsDuplicateKeyError(err) {
			return unavailable(fmt.Errorf("store: insert assignment: %w", err))
		}
	}
	return nil
}

// DeleteAssignment removes an assignment that has no review yet.
func (s *Store) DeleteAssignment(ctx context.Context, a *models.Assignment) error {
	if err := s.claimVersion(ctx, "assignments", a.ID, a.Version, s.assignVersion(ctx, a.ID)); err != nil {
		return err
	}
	if _, err := s.assignments().DeleteOne(ctx, bson.M{"_id": a.ID}); err != nil {
		return unavailable(fmt.Errorf("store: delete assignment: %w", err))
	}
	return s.removeQueueRow(ctx, a.CompetitionID, a.JudgeID, a.ID)
}

// SaveAssignment writes a's status, review and history if the stored one
// is still at version (models.ErrStale otherwise), then its queue row.
func (s *Store) SaveAssignment(ctx context.Context, a *models.Assignment, version int, row models.QueueRow) error {
	if err := s.claimVersion(ctx, "assignments", a.ID, version, s.assignVersion(ctx, a.ID)); err != nil {
		return err
	}
	a.UpdatedAt = s.now()
	ok, err := s.updateIf(ctx, s.assignments(), a.ID, bson.M{"version": version}, bson.M{
		"$set": bson.M{
			"status": a.Status, "conflict_reason": a.ConflictReason, "scores": a.Scores, "comment": a.Comment,
			"note": a.Note, "total": a.Total, "history": a.History, "submitted_at": a.SubmittedAt, "updated_at": a.UpdatedAt,
		},
		"$inc": bson.M{"version": 1},
	})
	if err != nil {
		return unavailable(fmt.Errorf("store: update assignment: %w", err))
	}
	if !ok {
		return models.ErrStale
	}
	a.Version = version + 1
	return s.SyncQueueRow(ctx, a, row)
}

func (s *Store) assignVersion(ctx context.Context, id string) func() (int, error) {
	return func() (int, error) {
		a, err := s.AssignmentByID(ctx, id)
		if err != nil {
			return 0, err
		}
		return a.Version, nil
	}
}

// QueueOf returns a judge's queue in a competition (empty when none).
func (s *Store) QueueOf(ctx context.Context, compID, judgeID string) (*models.JudgeQueue, error) {
	var d queueDoc
	err := s.queues().FindOne(ctx, bson.M{"_id": models.QueueID(compID, judgeID)}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &models.JudgeQueue{ID: models.QueueID(compID, judgeID), CompetitionID: compID, JudgeID: judgeID, Rows: []models.QueueRow{}}, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: queue: %w", err))
	}
	return d.queue()
}

// queueDoc is a queue as stored: its rows as one deflated BSON value
// ("rows_z"), because FerretDB v1's cost of reading a document follows its
// number of fields (150 rows as sub-documents: ~20 ms a read; as one
// value: ~1 ms; measured by sproutbench, docs/BENCHMARKS.md), and a
// version for claimed writes.
type queueDoc struct {
	ID            string            `bson:"_id"`
	CompetitionID string            `bson:"competition_id"`
	JudgeID       string            `bson:"judge_id"`
	N             int               `bson:"n"` // rows, for people reading the database
	RowsZ         bson.Binary       `bson:"rows_z"`
	OldRows       []models.QueueRow `bson:"rows,omitempty"` // the first layout, read until rewritten
	UpdatedAt     time.Time         `bson:"updated_at"`
	Version       int               `bson:"version"`
}

type queueRows struct {
	R []models.QueueRow `bson:"r"`
}

func (d *queueDoc) queue() (*models.JudgeQueue, error) {
	q := &models.JudgeQueue{ID: d.ID, CompetitionID: d.CompetitionID, JudgeID: d.JudgeID, UpdatedAt: d.UpdatedAt, Rows: []models.QueueRow{}}
	if len(d.RowsZ.Data) == 0 {
		q.Rows = append(q.Rows, d.OldRows...)
		return q, nil
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(d.RowsZ.Data)))
	if err != nil {
		return nil, fmt.Errorf("store: queue %s: %w", d.ID, err)
	}
	var r queueRows
	if err := bson.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("store: queue %s: %w", d.ID, err)
	}
	q.Rows = append(q.Rows, r.R...)
	return q, nil
}

func packQueueRows(rows []models.QueueRow) (bson.Binary, error) {
	b, err := bson.Marshal(queueRows{R: rows})
	if err != nil {
		return bson.Binary{}, err
	}
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		return bson.Binary{}, err
	}
	if err := zw.Close(); err != nil {
		return bson.Binary{}, err
	}
	return bson.Binary{Subtype: 0x80, Data: buf.Bytes()}, nil
}

// changeQueue applies change to a judge's queue under a version claim,
// retrying when another writer (the same judge in two tabs) got there first.
func (s *Store) changeQueue(ctx context.Context, compID, judgeID string, change func(rows []models.QueueRow) []models.QueueRow) error {
	id := models.QueueID(compID, judgeID)
	for attempt := 0; ; attempt++ {
		var d queueDoc
		err := s.queues().FindOne(ctx, bson.M{"_id": id}).Decode(&d)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			d = queueDoc{ID: id, CompetitionID: compID, JudgeID: judgeID}
		case err != nil:
			return unavailable(fmt.Errorf("store: read queue: %w", err))
		}
		q, err := d.queue()
		if err != nil {
			return err
		}
		rows := change(q.Rows)
		sortRows(rows)
		z, err := packQueueRows(rows)
		if err != nil {
			return fmt.Errorf("store: pack queue: %w", err)
		}
		if d.Version == 0 {
			d.RowsZ, d.N, d.OldRows, d.Version, d.UpdatedAt = z, len(rows), nil, 1, s.now()
			_, err = s.queues().InsertOne(ctx, d)
			if err == nil {
				return nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return unavailable(fmt.Errorf("store: insert queue: %w", err))
			}
		} else {
			cur := func() (int, error) {
				var x struct {
					Version int `bson:"version"`
				}
				if err := s.queues().FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"version": 1})).Decode(&x); err != nil {
					return 0, unavailable(notFound(err))
				}
				return x.Version, nil
			}
			err = s.claimVersion(ctx, "judge_queues", id, d.Version, cur)
			if err == nil {
				// Under the claim no other writer moves this version: write
				// by _id (a conditional filter would scan on FerretDB, and
				// updateIf's check would read the document once more).
				_, uerr := s.queues().UpdateOne(ctx, bson.M{"_id": id}, bson.M{
					"$set":   bson.M{"rows_z": z, "n": len(rows), "updated_at": s.now()},
					"$unset": bson.M{"rows": ""},
					"$inc":   bson.M{"version": 1},
				})
				if uerr != nil {
					return unavailable(fmt.Errorf("store: update queue: %w", uerr))
				}
				return nil
			}
			if !errors.Is(err, models.ErrStale) {
				return err
			}
		}
		if attempt >= 6 {
			return models.ErrStale
		}
	}
}

func sortRows(rows []models.QueueRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Round != rows[j].Round {
			return rows[i].Round < rows[j].Round
		}
		return rows[i].AssignmentID < rows[j].AssignmentID
	})
}

// SyncQueueRow makes the judge's queue row for a agree with it (row carries
// the entry's title, track and sector; status and total come from a).
func (s *Store) SyncQueueRow(ctx context.Context, a *models.Assignment, row models.QueueRow) error {
	row.AssignmentID, row.Round, row.EntryID, row.Status, row.Total, row.Scores = a.ID, a.Round, a.EntryID, a.Status, a.Total, a.Scores
	return s.changeQueue(ctx, a.CompetitionID, a.JudgeID, func(rows []models.QueueRow) []models.QueueRow {
		for i := range rows {
			if rows[i].AssignmentID == a.ID {
				if row.Title == "" {
					row.Title, row.Track, row.Sector = rows[i].Title, rows[i].Track, rows[i].Sector
				}
				rows[i] = row
				return rows
			}
		}
		return append(rows, row)
	})
}

func (s *Store) removeQueueRow(ctx context.Context, compID, judgeID, id string) error {
	return s.changeQueue(ctx, compID, judgeID, func(rows []models.QueueRow) []models.QueueRow {
		out := rows[:0]
		for _, r := range rows {
			if r.AssignmentID != id {
				out = append(out, r)
			}
		}
		return out
	})
}

// RebuildQueues makes every judge queue of a competition again from its
// assignments (one scan of the competition's assignments: after an
// assignment run, or to repair). titles maps entry ids to their rows'
// title, track and sector.
func (s *Store) RebuildQueues(ctx context.Context, compID string, judges []string, titles map[string]models.QueueRow) error {
	cur, err := s.assignments().Find(ctx, bson.M{"competition_id": compID},
		options.Find().SetProjection(bson.M{"comment": 0, "note": 0, "history": 0}))
	if err != nil {
		return unavailable(fmt.Errorf("store: list assignments: %w", err))
	}
	var all []models.Assignment
	if err := cur.All(ctx, &all); err != nil {
		return unavailable(fmt.Errorf("store: list assignments: %w", err))
	}
	byJudge := map[string][]models.QueueRow{}
	for _, j := range judges {
		byJudge[j] = []models.QueueRow{}
	}
	for _, a := range all {
		t := titles[a.EntryID]
		byJudge[a.JudgeID] = append(byJudge[a.JudgeID], models.QueueRow{
			AssignmentID: a.ID, Round: a.Round, EntryID: a.EntryID, Title: t.Title, Track: t.Track, Sector: t.Sector,
			Status: a.Status, Total: a.Total, Scores: a.Scores,
		})
	}
	for judge, rows := range byJudge {
		rows := rows
		if err := s.changeQueue(ctx, compID, judge, func([]models.QueueRow) []models.QueueRow { return rows }); err != nil {
			return err
		}
	}
	return nil
}
