package broadcast

import (
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// Tallies (models.BroadcastTally) keep a broadcast's counts by org and state as the delivery rows
// change: the expansion adds its batch's rows, a worker moves its batch's rows from queued to their
// outcome, in the same transaction as the rows. Cancelling and finishing rebuild them from the rows.

// tallyKey is one org × state.
type tallyKey struct {
	org    uint
	status string
}

// tallyDelta is a change of a tally: recipients and possible duplicates (counted once a recipient is
// final: a queued row's tally carries none).
type tallyDelta struct{ n, dup int64 }

// upsertTallies adds the deltas to broadcast id's tallies, in key order (two workers never wait on each
// other's rows in opposite orders).
func upsertTallies(tx *gorm.DB, id uint, deltas map[tallyKey]tallyDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	keys := make([]tallyKey, 0, len(deltas))
	for k, d := range deltas {
		if d.n != 0 || d.dup != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].org != keys[j].org {
			return keys[i].org < keys[j].org
		}
		return keys[i].status < keys[j].status
	})
	for start := 0; start < len(keys); start += 500 {
		part := keys[start:min(start+500, len(keys))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO broadcast_tallies (broadcast_id, org_id, status, n, dup) VALUES ")
		args := make([]any, 0, len(part)*5)
		for i, k := range part {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?)")
			args = append(args, id, k.org, k.status, deltas[k].n, deltas[k].dup)
		}
		sb.WriteString(tallyUpsert(tx))
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("broadcast: tallies of %d: %w", id, err)
		}
	}
	return nil
}

// tallyUpsert is the dialect's "add to the existing row".
func tallyUpsert(db *gorm.DB) string {
	if db.Dialector.Name() == "mysql" {
		return " ON DUPLICATE KEY UPDATE n = n + VALUES(n), dup = dup + VALUES(dup)"
	}
	return " ON CONFLICT (broadcast_id, org_id, status) DO UPDATE SET n = broadcast_tallies.n + excluded.n, dup = broadcast_tallies.dup + excluded.dup"
}

// tallyRange adds the delivery rows of broadcast id for members in (from, to] (to 0: no end) to its
// tallies: an expansion batch, in the batch's transaction.
func tallyRange(tx *gorm.DB, id uint, from, to uint) error {
	sql := "INSERT INTO broadcast_tallies (broadcast_id, org_id, status, n, dup) SELECT broadcast_id, org_id, status, COUNT(*), 0 FROM deliveries WHERE broadcast_id = ? AND member_id > ?"
	args := []any{id, from}
	if to != 0 {
		sql += " AND member_id <= ?"
		args = append(args, to)
	}
	sql += " GROUP BY broadcast_id, org_id, status" + tallyUpsert(tx)
	if err := tx.Exec(sql, args...).Error; err != nil {
		return fmt.Errorf("broadcast: tally the expansion of %d: %w", id, err)
	}
	return nil
}

// rebuildTallies counts broadcast id's rows again (cancelled, finished, or a worker's update that did
// not match what it claimed): the delivery states, and the read and answered ones (Mark, which may run
// at the same time, adds to the rebuilt rows once it gets them: its row update and its tally are in one
// transaction, so the rebuild either counted the row or Mark's +1 comes after it).
func rebuildTallies(tx *gorm.DB, id uint) error {
	return tx.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("broadcast_id = ?", id).Delete(&models.BroadcastTally{}).Error; err != nil {
			return fmt.Errorf("broadcast: rebuild the tallies of %d: %w", id, err)
		}
		err := tx.Exec(`INSERT INTO broadcast_tallies (broadcast_id, org_id, status, n, dup)
SELECT broadcast_id, org_id, status, COUNT(*), SUM(CASE WHEN status <> 'queued' THEN dup ELSE 0 END) FROM deliveries WHERE broadcast_id = ? GROUP BY broadcast_id, org_id, status
UNION ALL
SELECT broadcast_id, org_id, '`+TallyRead+`', COUNT(*), 0 FROM deliveries WHERE broadcast_id = ? AND read_at IS NOT NULL GROUP BY broadcast_id, org_id
UNION ALL
SELECT broadcast_id, org_id, '`+TallyAnswered+`', COUNT(*), 0 FROM deliveries WHERE broadcast_id = ? AND answered_at IS NOT NULL GROUP BY broadcast_id, org_id`,
			id, id, id).Error
		if err != nil {
			return fmt.Errorf("broadcast: rebuild the tallies of %d: %w", id, err)
		}
		return nil
	})
}
