package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/sprout-vn/sprout/models"
)

// A compact codec for list rows. Decoding BSON into structs by reflection
// cost ~10 µs a row, most of the staff list's time in Go at 500 entries;
// this one is a few allocations a row. Format (before deflating): a
// version byte, then per row: uvarint entry version, strings (uvarint
// length, bytes) id, title, leader, status, track, sector, stage, commune,
// search, deck; a flags byte (1: women-led, 2: submitted); varint funding
// need; uvarint team size; varint Unix nanoseconds of created, updated
// and, if flagged, submitted.

const listRowFormat = 1

func appendListRows(b []byte, rows []models.ListRow) []byte {
	b = append(b, listRowFormat)
	for i := range rows {
		r := &rows[i]
		b = binary.AppendUvarint(b, uint64(r.Version))
		for _, s := range [...]string{r.ID, r.Title, r.LeaderName, string(r.Status), r.Track, r.Sector, r.Stage, r.Commune, r.Search, r.Deck} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		var flags byte
		if r.WomenLed {
			flags |= 1
		}
		if r.SubmittedAt != nil {
			flags |= 2
		}
		b = append(b, flags)
		b = binary.AppendVarint(b, r.FundingNeed)
		b = binary.AppendUvarint(b, uint64(r.TeamSize))
		b = binary.AppendVarint(b, r.CreatedAt.UnixNano())
		b = binary.AppendVarint(b, r.UpdatedAt.UnixNano())
		if r.SubmittedAt != nil {
			b = binary.AppendVarint(b, r.SubmittedAt.UnixNano())
		}
	}
	return b
}

var errRowCodec = errors.New("store: malformed list rows")

func readListRows(b []byte) ([]models.ListRow, error) {
	if len(b) == 0 || b[0] != listRowFormat {
		return nil, errRowCodec
	}
	b = b[1:]
	var out []models.ListRow
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if bad || n > uint64(len(b)) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	for len(b) > 0 && !bad {
		var r models.ListRow
		r.Version = int(uv())
		r.ID, r.Title, r.LeaderName, r.Status = str(), str(), str(), models.EntryStatus(str())
		r.Track, r.Sector, r.Stage, r.Commune, r.Search, r.Deck = str(), str(), str(), str(), str(), str()
		if bad || len(b) == 0 {
			return nil, errRowCodec
		}
		flags := b[0]
		b = b[1:]
		r.WomenLed = flags&1 != 0
		r.FundingNeed = sv()
		r.TeamSize = int(uv())
		r.CreatedAt = time.Unix(0, sv()).UTC()
		r.UpdatedAt = time.Unix(0, sv()).UTC()
		if flags&2 != 0 {
			t := time.Unix(0, sv()).UTC()
			r.SubmittedAt = &t
		}
		out = append(out, r)
	}
	if bad {
		return nil, errRowCodec
	}
	return out, nil
}
