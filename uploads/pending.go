package uploads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// cleanUp removes what a failed Receive left: the object, if there can be
// one, and the pending record. Failures are logged and left to Sweep.
func (d *Decks) cleanUp(ctx context.Context, key string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	// With S3 unreachable, a removal would only wait out minio-go's
	// retries. Dropping the record anyway is safe: an object (if the
	// put did complete) is then named by nothing, and Sweep's orphan
	// pass removes it; an unfinished multipart upload goes in its
	// incomplete-upload pass.
	if !errors.Is(cause, ErrStorageUnavailable) {
		if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
			d.log().Warn("uploads: remove failed upload", "key", key, "err", err)
		}
	}
	if err := d.Pending.RemovePending(ctx, key); err != nil {
		d.log().Warn("uploads: remove pending record", "key", key, "err", err)
	}
}

// Confirm marks a received deck ready, after the caller has attached its
// key to the entry. A ready deck is never swept. With a PendingStore that
// leaves referenced keys out of StalePending, Sweep does the same later.
func (d *Decks) Confirm(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("uploads: confirm %q: %w", key, ErrNotFound)
	}
	if err := d.Pending.MarkReady(ctx, key); err != nil {
		return fmt.Errorf("uploads: confirm %s: %w", key, err)
	}
	return nil
}

// Discard removes a deck and its record: a received deck the caller could
// not attach, or a replaced one. The object goes first; if only the record
// goes, Sweep's orphan pass removes the object later.
func (d *Decks) Discard(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("uploads: discard %q: %w", key, ErrNotFound)
	}
	var errs []error
	if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
		errs = append(errs, storageError("remove "+key, err))
	}
	if err := d.Pending.RemovePending(ctx, key); err != nil {
		errs = append(errs, fmt.Errorf("uploads: remove record %s: %w", key, err))
	}
	return errors.Join(errs...)
}

// Sweep removes what failed uploads left behind and returns how many decks
// it removed:
//   - pending records older than olderThan, with their objects (a crash
//     or lost connection between the put and the attach);
//   - unfinished multipart uploads under KeyPrefix started before then
//     (a crash mid-upload; S3 keeps their parts until aborted);
//   - objects under KeyPrefix that no record names and whose LastModified
//     is before then.
//
// The record is always made before the object, so an object without one
// is garbage; the age test keeps Sweep off uploads in flight. olderThan
// must therefore exceed the longest an upload plus its attach can take
// (the server's read timeout, say; an hour is a safe choice): a pending
// record swept under a slow upload would lose that deck.
//
// The orphan pass lists every deck and looks each up by _id (fast on every
// backend); run Sweep every hour or so, not per request.
func (d *Decks) Sweep(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	cutoff := d.now().Add(-olderThan)
	stale, err := d.Pending.StalePending(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("uploads: sweep: list stale records: %w", err)
	}
	for _, key := range stale {
		if ValidKey(key) {
			if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, key, minio.RemoveObjectOptions{}); err != nil {
				return removed, storageError("sweep: remove "+key, err)
			}
		}
		if err := d.Pending.RemovePending(ctx, key); err != nil {
			return removed, fmt.Errorf("uploads: sweep: remove record %s: %w", key, err)
		}
		removed++
	}

	n, err := d.sweepIncomplete(ctx, cutoff)
	removed += n
	if err != nil {
		return removed, err
	}
	n, err = d.sweepOrphans(ctx, cutoff)
	removed += n
	return removed, err
}

// sweepIncomplete aborts multipart uploads started before cutoff.
func (d *Decks) sweepIncomplete(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine if we return early
	var keys []string
	for u := range d.Bucket.Client.ListIncompleteUploads(ctx, d.Bucket.Name, KeyPrefix, true) {
		if u.Err != nil {
			return 0, storageError("sweep: list incomplete uploads", u.Err)
		}
		if u.Initiated.Before(cutoff) {
			keys = append(keys, u.Key)
		}
	}
	removed := 0
	for _, key := range keys {
		if err := d.Bucket.Client.RemoveIncompleteUpload(ctx, d.Bucket.Name, key); err != nil {
			return removed, storageError("sweep: abort upload "+key, err)
		}
		removed++
	}
	return removed, nil
}

// sweepOrphans removes objects older than cutoff that no record names.
func (d *Decks) sweepOrphans(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	removed := 0
	for obj := range d.Bucket.Client.ListObjects(ctx, d.Bucket.Name, minio.ListObjectsOptions{Prefix: KeyPrefix, Recursive: true}) {
		if obj.Err != nil {
			return removed, storageError("sweep: list objects", obj.Err)
		}
		// An upload in flight has no object yet, and one that just
		// completed has a record; the age test covers the moment in
		// between and clock skew with the S3 server.
		if !obj.LastModified.Before(cutoff) {
			continue
		}
		known, err := d.Pending.KnownKey(ctx, obj.Key)
		if err != nil {
			return removed, fmt.Errorf("uploads: sweep: look up %s: %w", obj.Key, err)
		}
		if known {
			continue
		}
		if err := d.Bucket.Client.RemoveObject(ctx, d.Bucket.Name, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return removed, storageError("sweep: remove "+obj.Key, err)
		}
		removed++
	}
	return removed, nil
}
