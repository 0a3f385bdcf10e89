package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot/wechat/wxapi"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
)

// Mass sending (群发, Broadcast.Channel models.SendMass). The audience is expanded into delivery rows as
// for any broadcast (one per member: the record of who got it). The owner then sorts the rows in id
// order, TagBatch at a time, each batch in one transaction with the members' monthly counts
// (models.MassQuota): a member who was sent fewer than MassMonthly mass messages this month is
// reserved one and his row becomes "tagged"; the others stay queued and go the per-recipient way
// (customer-service or template message) like any broadcast's. The batch's tagged rows are then
// tagged at WeChat (batchtagging, ≤ 50 openids a call, under the tag API's own shared rate limit) and
// the batch's end becomes the job's TagCursor; a process killed before that repeats the batch, which
// is harmless (tagging twice is). Once every row is sorted, one sendall to the tag with clientmsgid
// "yz-bc-<id>" sends the notice to them all: repeated after a crash, WeChat answers 45065 (sent
// already), which counts as sent. The tagged rows are then recorded sent (Via "mass") in batches. The
// tag is deleted once WeChat reported the job (MASSSENDJOBFINISH: Service.MassReport) or TagKeep after
// the send; a tag of more than 100,000 users is first partly untagged (WeChat refuses to delete it).
//
// WeChat's answers: busy (-1), a quota (45009) or too frequent (45011) are retried after a backoff; a
// permanent refusal fails the job: its tagged rows (and those not sorted yet) fail with the reason and
// their monthly counts are given back. A user with too many tags (45059) or a bad openid (40003) in a
// batchtagging call sends that call's rows the per-recipient way instead.

// Masser is the WeChat tag and mass-send API (*wxapi.Client).
type Masser interface {
	CreateTag(ctx context.Context, name string) (int64, error)
	TagID(ctx context.Context, name string) (int64, bool, error)
	TagUsers(ctx context.Context, tagID int64, openIDs []string) error
	UntagUsers(ctx context.Context, tagID int64, openIDs []string) error
	DeleteTag(ctx context.Context, tagID int64) error
	SendTextToTag(ctx context.Context, tagID int64, text, clientMsgID string) (msgID int64, err error)
}

// Mass-send limits and defaults.
const (
	// MassMonthly is how many mass messages a service account's follower receives in a month.
	MassMonthly = 4
	// DefaultTagRate is the tag and mass-send API calls per second across every process when none is
	// configured. WeChat publishes daily quotas for these APIs but no per-second rate; 20 a second
	// (1,000 recipients tagged a second: 600,000 in 10 minutes) keeps far from 45011 and costs a
	// 600,000-recipient notice about 12,000 batchtagging calls (and 8,800 batchuntagging ones to
	// delete its tag).
	DefaultTagRate = 20
	// maxDeleteTag: WeChat refuses to delete a tag of more users than this (45057).
	maxDeleteTag = 100000
)

// chinaTime is the zone of the months WeChat counts mass messages in.
var chinaTime = time.FixedZone("CST", 8*3600)

// quotaMonth is the month (YYYYMM) t counts in.
func quotaMonth(t time.Time) int {
	t = t.In(chinaTime)
	return t.Year()*100 + int(t.Month())
}

// tagName is the WeChat tag of broadcast id's mass send (unique on the account, at most 30 bytes).
func tagName(id uint) string { return "yz-bc-" + strconv.FormatUint(uint64(id), 10) }

// clientMsgID makes broadcast id's mass send idempotent at WeChat.
func clientMsgID(id uint) string { return "yz-bc-" + strconv.FormatUint(uint64(id), 10) }

// massPass is an owner's state of a mass broadcast between steps: the rows that may be fed to the
// per-recipient workers (sorted ones: id up to the cursor) and a backoff after WeChat refused a tag
// call.
type massPass struct {
	limited bool
	upTo    uint64
	wait    time.Time
	tries   int
}

// massStep does one piece of a mass broadcast's work: expand a batch of the audience, sort and tag a
// batch of recipients, send, or record a batch sent (or failed). busy: more to do at once. It sets
// pass.mass so that feed hands out only sorted rows.
func (e *Engine) massStep(ctx context.Context, b *models.Broadcast, pass *feedPass) (busy bool, err error) {
	pass.mass.limited, pass.mass.upTo = true, 0
	if b.ExpandedAt == nil {
		return true, e.expand(ctx, b) // sorted after: nothing is fed while the audience grows
	}
	job, err := e.massJob(ctx, b.ID)
	if err != nil {
		return false, err
	}
	pass.mass.upTo = job.TagCursor
	now := e.s.now()
	switch {
	case job.FailedAt != nil:
		n, err := e.massFail(ctx, b.ID, job)
		return n > 0, err
	case job.TaggedAt == nil:
		if now.Before(pass.mass.wait) {
			return false, nil
		}
		err := e.tagBatch(ctx, b.ID, job, pass)
		pass.mass.upTo = job.TagCursor
		return true, err
	case job.SentAt == nil:
		// Nothing tagged (everyone over his monthly quota, or without WeChat): nothing to send.
		if left, err := e.nextTagged(ctx, b.ID, 1); err != nil || len(left) == 0 {
			return false, err
		}
		if job.DueAt != nil && now.Before(*job.DueAt) {
			return false, nil
		}
		return true, e.sendAll(ctx, b, job)
	}
	n, err := e.markSent(ctx, b.ID, job)
	return n > 0, err
}

// massJob loads broadcast id's mass job, making it the first time (its month is the one it starts in).
func (e *Engine) massJob(ctx context.Context, id uint) (*models.BroadcastMass, error) {
	db := e.s.db.WithContext(ctx)
	var job models.BroadcastMass
	err := db.Take(&job, "broadcast_id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		now := e.s.now()
		job = models.BroadcastMass{BroadcastID: id, Month: quotaMonth(now), CreatedAt: now, UpdatedAt: now}
		if err = db.Clauses(clause.OnConflict{DoNothing: true}).Create(&job).Error; err == nil {
			err = db.Take(&job, "broadcast_id = ?", id).Error
		}
	}
	if err != nil {
		return nil, fmt.Errorf("broadcast: mass job of %d: %w", id, err)
	}
	return &job, nil
}

// updateJob writes fields of broadcast id's mass job.
func (e *Engine) updateJob(ctx context.Context, id uint, upd map[string]any) error {
	upd["updated_at"] = e.s.now()
	if err := e.s.db.WithContext(ctx).Model(&models.BroadcastMass{}).Where("broadcast_id = ?", id).Updates(upd).Error; err != nil {
		return fmt.Errorf("broadcast: mass job of %d: %w", id, err)
	}
	return nil
}

// callCtx bounds one WeChat call (it finishes even when the process is stopping: its outcome is
// recorded).
func (e *Engine) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), e.o.SendTimeout)
}

// backOff makes the owner wait before the next tag call after a retryable refusal.
func (e *Engine) backOff(ctx context.Context, id uint, pass *feedPass, err error) {
	pass.mass.tries++
	pass.mass.wait = e.s.now().Add(e.backoff(pass.mass.tries))
	e.s.log.WarnContext(ctx, "broadcast: WeChat refused a tag call, retrying later", "broadcast", id, "err", err, "tries", pass.mass.tries)
}

// failJob gives the mass send up: its tagged rows (and those not sorted yet) fail with the reason.
func (e *Engine) failJob(ctx context.Context, id uint, err error, prefix string, calls int) error {
	e.s.log.ErrorContext(ctx, "broadcast: mass send failed", "broadcast", id, "err", err)
	return e.updateJob(ctx, id, map[string]any{"failed_at": e.s.now(), "err_code": int(notify.Code(err)),
		"reason": clipRunes(prefix+massReason(err), 60), "calls": gorm.Expr("calls + ?", calls)})
}

// massReason is why a tag or mass-send call failed, as people read it.
func massReason(err error) string {
	switch notify.Code(err) {
	case wxapi.CodeTooManyTags:
		return "公众号的标签已满（最多100个），请在公众平台删除不用的标签"
	case 48001:
		return "公众号没有群发接口权限"
	}
	return reasonOf(err)
}

// tagBatch makes the job's tag if it has none, then sorts and tags the next TagBatch recipients.
// WeChat's refusals are handled here (a backoff, or the job failed); the error is the database's.
func (e *Engine) tagBatch(ctx context.Context, id uint, job *models.BroadcastMass, pass *feedPass) error {
	db := e.s.db.WithContext(ctx)
	if job.TagID == 0 {
		tag, calls, err := e.makeTag(ctx, id)
		if err != nil {
			if notify.Permanent(err) {
				return e.failJob(ctx, id, err, "", calls)
			}
			e.backOff(ctx, id, pass, err)
			return e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + ?", calls)})
		}
		job.TagID = tag
		if err := e.updateJob(ctx, id, map[string]any{"tag_id": tag, "calls": gorm.Expr("calls + ?", calls)}); err != nil {
			return err
		}
	}
	// The batch is the next TagBatch rows in id order, whatever their state, so that a batch repeated
	// after a crash is the same rows.
	var ids []uint64
	if err := db.Model(&models.Delivery{}).Where("broadcast_id = ? AND id > ?", id, job.TagCursor).Order("id").
		Limit(e.o.TagBatch).Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("broadcast: recipients to tag of %d: %w", id, err)
	}
	if len(ids) == 0 {
		now := e.s.now()
		job.TaggedAt = &now
		return e.updateJob(ctx, id, map[string]any{"tagged_at": now})
	}
	from, to := job.TagCursor, ids[len(ids)-1]
	if err := e.reserve(ctx, id, job.Month, from, to); err != nil {
		return err
	}
	var rows []struct {
		ID       uint64
		MemberID uint
		OrgID    uint
		OpenID   string
	}
	if err := db.Model(&models.Delivery{}).Select("id, member_id, org_id, open_id").
		Where("broadcast_id = ? AND status = ? AND id > ? AND id <= ?", id, models.DeliveryTagged, from, to).Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("broadcast: tagged recipients of %d: %w", id, err)
	}
	calls, tagged := 0, len(rows)
	for i := 0; i < len(rows); i += wxapi.MaxTagBatch {
		part := rows[i:min(i+wxapi.MaxTagBatch, len(rows))]
		openIDs := make([]string, len(part))
		for j, r := range part {
			openIDs[j] = r.OpenID
		}
		if _, err := e.tagLimit.Take(ctx, 1); err != nil {
			return e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + ?", calls)}) // stopping: the batch is repeated
		}
		cctx, cancel := e.callCtx(ctx)
		err := e.o.Mass.TagUsers(cctx, job.TagID, openIDs)
		cancel()
		calls++
		switch code := notify.Code(err); {
		case err == nil:
		case code == 45059 || code == notify.CodeBadOpenID:
			// Someone in this call carries too many tags (or WeChat does not know him): the call's
			// rows go the per-recipient way.
			ds := make([]massRow, len(part))
			for j, r := range part {
				ds[j] = massRow{r.ID, r.MemberID, r.OrgID}
			}
			if err := e.moveTagged(ctx, id, job.Month, ds, models.DeliveryQueued, map[string]any{"via": ""}, true); err != nil {
				return err
			}
			tagged -= len(part)
		case notify.Permanent(err):
			return e.failJob(ctx, id, err, "", calls)
		default:
			e.backOff(ctx, id, pass, err)
			return e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + ?", calls)})
		}
	}
	pass.mass.tries = 0
	res := db.Model(&models.BroadcastMass{}).Where("broadcast_id = ? AND tag_cursor = ?", id, from).Updates(map[string]any{
		"tag_cursor": to, "tagged": gorm.Expr("tagged + ?", tagged), "calls": gorm.Expr("calls + ?", calls), "updated_at": e.s.now()})
	if res.Error != nil {
		return fmt.Errorf("broadcast: tag cursor of %d: %w", id, res.Error)
	}
	job.TagCursor, job.Tagged = to, job.Tagged+tagged
	return nil
}

// makeTag makes the broadcast's WeChat tag, or finds it when an earlier try made it and was cut short
// before recording it (45157: the name exists). It returns the calls it made.
func (e *Engine) makeTag(ctx context.Context, id uint) (tag int64, calls int, err error) {
	if _, err := e.tagLimit.Take(ctx, 1); err != nil {
		return 0, 0, err
	}
	cctx, cancel := e.callCtx(ctx)
	defer cancel()
	tag, err = e.o.Mass.CreateTag(cctx, tagName(id))
	if notify.Code(err) != wxapi.CodeTagNameExists {
		return tag, 1, err
	}
	if _, err := e.tagLimit.Take(ctx, 1); err != nil {
		return 0, 1, err
	}
	tag, ok, err := e.o.Mass.TagID(cctx, tagName(id))
	if err == nil && !ok {
		err = fmt.Errorf("broadcast: tag %q exists and is not listed", tagName(id))
	}
	return tag, 2, err
}

// reserve sorts broadcast id's queued rows in (from, to], in one transaction: a member within his
// monthly mass messages is counted one more and his row becomes tagged; the others stay queued.
func (e *Engine) reserve(ctx context.Context, id uint, month int, from, to uint64) error {
	now := e.s.now()
	lock := e.s.db.Dialector.Name() != "sqlite" // SQLite has one writer at a time: the first statement takes it
	return e.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		insert, ignore := insertIgnore(tx)
		err := tx.Exec(insert+` mass_quotas (month, member_id, n)
SELECT ?, member_id, 0 FROM deliveries WHERE broadcast_id = ? AND status = ? AND id > ? AND id <= ? ORDER BY member_id`+ignore,
			month, id, models.DeliveryQueued, from, to).Error
		if err != nil {
			return fmt.Errorf("broadcast: monthly counts of %d: %w", id, err)
		}
		var ds []massRow
		q := tx.Model(&models.Delivery{}).Select("id, member_id, org_id").
			Where("broadcast_id = ? AND status = ? AND id > ? AND id <= ?", id, models.DeliveryQueued, from, to).Order("id")
		if lock {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Find(&ds).Error; err != nil {
			return fmt.Errorf("broadcast: recipients to sort of %d: %w", id, err)
		}
		if len(ds) == 0 {
			return nil
		}
		members := make([]uint, len(ds))
		for i, d := range ds {
			members[i] = d.MemberID
		}
		var within []uint
		q = tx.Model(&models.MassQuota{}).Where("month = ? AND member_id IN ? AND n < ?", month, members, MassMonthly).Order("member_id")
		if lock {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // another broadcast's sorting waits: nobody gets a fifth
		}
		if err := q.Pluck("member_id", &within).Error; err != nil {
			return fmt.Errorf("broadcast: monthly counts of %d: %w", id, err)
		}
		if len(within) == 0 {
			return nil
		}
		if err := tx.Model(&models.MassQuota{}).Where("month = ? AND member_id IN ?", month, within).
			UpdateColumn("n", gorm.Expr("n + 1")).Error; err != nil {
			return fmt.Errorf("broadcast: monthly counts of %d: %w", id, err)
		}
		ok := make(map[uint]bool, len(within))
		for _, m := range within {
			ok[m] = true
		}
		var ids []uint64
		deltas := map[tallyKey]tallyDelta{}
		for _, d := range ds {
			if ok[d.MemberID] {
				ids = append(ids, d.ID)
				moveTally(deltas, d.OrgID, models.DeliveryQueued, models.DeliveryTagged)
			}
		}
		if err := tx.Model(&models.Delivery{}).Where("id IN ?", ids).
			UpdateColumns(map[string]any{"status": models.DeliveryTagged, "via": models.ViaTag, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("broadcast: tag recipients of %d: %w", id, err)
		}
		return upsertTallies(tx, id, deltas)
	})
}

// massRow is a delivery row the mass send moves.
type massRow struct {
	ID       uint64
	MemberID uint
	OrgID    uint
}

func moveTally(deltas map[tallyKey]tallyDelta, org uint, from, to string) {
	f, t := deltas[tallyKey{org, from}], deltas[tallyKey{org, to}]
	f.n--
	t.n++
	deltas[tallyKey{org, from}], deltas[tallyKey{org, to}] = f, t
}

// moveTagged moves tagged rows to another state (with upd), with their tallies, in one transaction;
// release gives their members' monthly mass messages back.
func (e *Engine) moveTagged(ctx context.Context, id uint, month int, ds []massRow, status string, upd map[string]any, release bool) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]uint64, len(ds))
	members := make([]uint, len(ds))
	deltas := map[tallyKey]tallyDelta{}
	for i, d := range ds {
		ids[i], members[i] = d.ID, d.MemberID
		moveTally(deltas, d.OrgID, models.DeliveryTagged, status)
	}
	upd["status"], upd["updated_at"] = status, e.s.now()
	return e.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.Delivery{}).Where("id IN ? AND status = ?", ids, models.DeliveryTagged).UpdateColumns(upd)
		if res.Error != nil {
			return fmt.Errorf("broadcast: tagged recipients of %d: %w", id, res.Error)
		}
		if res.RowsAffected != int64(len(ds)) { // not ours to count (never happens: only the owner moves them)
			return fmt.Errorf("broadcast: %d of %d tagged recipients of %d moved", res.RowsAffected, len(ds), id)
		}
		if release {
			if err := tx.Model(&models.MassQuota{}).Where("month = ? AND member_id IN ? AND n > 0", month, members).
				UpdateColumn("n", gorm.Expr("n - 1")).Error; err != nil {
				return fmt.Errorf("broadcast: monthly counts of %d: %w", id, err)
			}
		}
		return upsertTallies(tx, id, deltas)
	})
}

// markBatch is how many rows one step records sent, failed or cancelled.
const markBatch = 5000

// nextTagged is the first (at most) n of broadcast id's tagged rows.
func (e *Engine) nextTagged(ctx context.Context, id uint, n int) ([]massRow, error) {
	var ds []massRow
	err := e.s.db.WithContext(ctx).Model(&models.Delivery{}).Select("id, member_id, org_id").
		Where("broadcast_id = ? AND status = ?", id, models.DeliveryTagged).Order("id").Limit(n).Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("broadcast: tagged recipients of %d: %w", id, err)
	}
	return ds, nil
}

// sendAll sends the notice to the job's tag, once: a repeat (after a crash, or a timeout that went
// through) is answered 45065 and counts as sent.
func (e *Engine) sendAll(ctx context.Context, b *models.Broadcast, job *models.BroadcastMass) error {
	if _, err := e.tagLimit.Take(ctx, 1); err != nil {
		return nil
	}
	cctx, cancel := e.callCtx(ctx)
	msgID, err := e.o.Mass.SendTextToTag(cctx, job.TagID, noticeOf(b).Text, clientMsgID(b.ID))
	cancel()
	now := e.s.now()
	upd := map[string]any{"calls": gorm.Expr("calls + 1"), "err_code": int(notify.Code(err)), "reason": ""}
	switch {
	case err == nil || notify.Code(err) == wxapi.CodeMassSentOnce:
		upd["sent_at"], upd["err_code"] = now, 0
		if msgID != 0 {
			upd["msg_id"] = msgID
		}
		e.s.log.InfoContext(ctx, "broadcast: mass send accepted", "broadcast", b.ID, "tagged", job.Tagged, "msg_id", msgID, "repeat", err != nil)
	case !notify.Permanent(err) && job.Attempts+1 < e.o.MassAttempts:
		upd["attempts"], upd["due_at"], upd["reason"] = job.Attempts+1, now.Add(e.backoff(job.Attempts+1)), clipRunes(massReason(err), 60)
		e.s.log.WarnContext(ctx, "broadcast: mass send refused, retrying later", "broadcast", b.ID, "err", err)
	default:
		prefix := ""
		if !notify.Permanent(err) {
			prefix = "重试次数用完："
		}
		return e.failJob(ctx, b.ID, err, prefix, 1)
	}
	return e.updateJob(ctx, b.ID, upd)
}

// markSent records a batch of the tagged rows sent by the mass send (Via mass); 0 when none is left.
func (e *Engine) markSent(ctx context.Context, id uint, job *models.BroadcastMass) (int, error) {
	ds, err := e.nextTagged(ctx, id, markBatch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	err = e.moveTagged(ctx, id, job.Month, ds, models.DeliverySent, map[string]any{"via": models.ViaMass, "sent_at": job.SentAt,
		"attempts": 1, "err_code": 0, "reason": ""}, false)
	return len(ds), err
}

// massFail records a batch of a failed job's rows failed: the tagged ones (their monthly counts given
// back), then those never sorted; 0 when none is left.
func (e *Engine) massFail(ctx context.Context, id uint, job *models.BroadcastMass) (int, error) {
	ds, err := e.nextTagged(ctx, id, markBatch)
	if err != nil {
		return 0, err
	}
	if len(ds) > 0 {
		return len(ds), e.moveTagged(ctx, id, job.Month, ds, models.DeliveryFailed,
			map[string]any{"err_code": job.ErrCode, "reason": job.Reason, "attempts": 1}, true)
	}
	db := e.s.db.WithContext(ctx)
	ds = nil
	if err := db.Model(&models.Delivery{}).Select("id, member_id, org_id").Where("broadcast_id = ? AND status = ? AND id > ? AND claim = ?",
		id, models.DeliveryQueued, job.TagCursor, "").Order("id").Limit(markBatch).Find(&ds).Error; err != nil || len(ds) == 0 {
		return 0, err
	}
	ids := make([]uint64, len(ds))
	deltas := map[tallyKey]tallyDelta{}
	for i, d := range ds {
		ids[i] = d.ID
		moveTally(deltas, d.OrgID, models.DeliveryQueued, models.DeliveryFailed)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.Delivery{}).Where("id IN ? AND status = ?", ids, models.DeliveryQueued).UpdateColumns(map[string]any{
			"status": models.DeliveryFailed, "err_code": job.ErrCode, "reason": job.Reason, "updated_at": e.s.now()})
		if res.Error != nil {
			return fmt.Errorf("broadcast: fail the recipients of %d: %w", id, res.Error)
		}
		if res.RowsAffected != int64(len(ds)) {
			return rebuildTallies(tx, id)
		}
		return upsertTallies(tx, id, deltas)
	})
	return len(ds), err
}

// massCancelled settles a cancelled mass broadcast's tagged rows, a batch a step: sent if the mass send
// went, cancelled (their monthly counts given back) if not. busy: there may be more.
func (e *Engine) massCancelled(ctx context.Context, b *models.Broadcast) (bool, error) {
	if b.Channel != models.SendMass {
		return false, nil
	}
	var job models.BroadcastMass
	err := e.s.db.WithContext(ctx).Take(&job, "broadcast_id = ?", b.ID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("broadcast: mass job of %d: %w", b.ID, err)
	}
	if job.SentAt != nil {
		n, err := e.markSent(ctx, b.ID, &job)
		return n > 0, err
	}
	ds, err := e.nextTagged(ctx, b.ID, markBatch)
	if err != nil || len(ds) == 0 {
		return false, err
	}
	return true, e.moveTagged(ctx, b.ID, job.Month, ds, models.DeliveryCancelled, map[string]any{"reason": "群发已取消"}, true)
}

// pollMass starts the deletion of the tags of finished mass broadcasts, once WeChat reported the job
// or TagKeep has passed since the send (at once when nothing was sent).
func (e *Engine) pollMass(ctx context.Context, wg *sync.WaitGroup) error {
	if e.o.Mass == nil {
		return nil
	}
	var jobs []models.BroadcastMass
	err := e.s.db.WithContext(ctx).Where("tag_id <> 0 AND tag_deleted_at IS NULL AND broadcast_id IN (SELECT id FROM broadcasts WHERE finished_at IS NOT NULL)").
		Find(&jobs).Error
	if err != nil {
		return fmt.Errorf("broadcast: tags to delete: %w", err)
	}
	now := e.s.now()
	for _, job := range jobs {
		if job.SentAt != nil && job.FailedAt == nil && job.ReportedAt == nil && now.Before(job.SentAt.Add(e.o.TagKeep)) {
			continue
		}
		e.mu.Lock()
		busy := e.owning[job.BroadcastID] || now.Before(e.cleanWait[job.BroadcastID])
		e.mu.Unlock()
		if busy {
			continue
		}
		ok, err := e.own(ctx, job.BroadcastID)
		if err != nil || !ok {
			return err
		}
		id := job.BroadcastID
		e.mu.Lock()
		e.owning[id] = true
		e.mu.Unlock()
		wg.Go(func() {
			defer func() {
				e.mu.Lock()
				delete(e.owning, id)
				e.mu.Unlock()
				e.disown(context.WithoutCancel(ctx), id)
			}()
			if err := e.deleteTag(ctx, id); err != nil && ctx.Err() == nil {
				e.s.log.WarnContext(ctx, "broadcast: delete the mass send's tag", "broadcast", id, "err", err)
				e.mu.Lock()
				e.cleanWait[id] = e.s.now().Add(time.Minute)
				e.mu.Unlock()
			}
		})
	}
	return nil
}

// deleteTag deletes broadcast id's tag, first untagging (in id order) those beyond the 100,000 WeChat
// deletes a tag with.
func (e *Engine) deleteTag(ctx context.Context, id uint) error {
	db := e.s.db.WithContext(ctx)
	renewed := time.Now()
	force := false // WeChat said the tag is still too big
	for ctx.Err() == nil {
		if time.Since(renewed) > e.o.OwnerLease/3 {
			if ok, err := e.own(ctx, id); err != nil || !ok {
				return err
			}
			renewed = time.Now()
		}
		var job models.BroadcastMass
		if err := db.Take(&job, "broadcast_id = ?", id).Error; err != nil {
			return fmt.Errorf("broadcast: mass job of %d: %w", id, err)
		}
		if job.TagID == 0 || job.TagDeletedAt != nil {
			return nil
		}
		if force || job.Tagged-job.Untagged > maxDeleteTag {
			var rows []struct {
				ID     uint64
				OpenID string
			}
			if err := db.Model(&models.Delivery{}).Select("id, open_id").Where("broadcast_id = ? AND id > ? AND via IN ?",
				id, job.UntagCursor, []string{models.ViaTag, models.ViaMass}).Order("id").Limit(e.o.TagBatch).Find(&rows).Error; err != nil {
				return fmt.Errorf("broadcast: recipients to untag of %d: %w", id, err)
			}
			if len(rows) == 0 && force {
				return fmt.Errorf("broadcast: WeChat will not delete tag %d of %d (45057) and nobody is left to untag", job.TagID, id)
			}
			if len(rows) > 0 {
				calls := 0
				for i := 0; i < len(rows); i += wxapi.MaxTagBatch {
					part := rows[i:min(i+wxapi.MaxTagBatch, len(rows))]
					openIDs := make([]string, len(part))
					for j, r := range part {
						openIDs[j] = r.OpenID
					}
					if _, err := e.tagLimit.Take(ctx, 1); err != nil {
						return err
					}
					cctx, cancel := e.callCtx(ctx)
					err := e.o.Mass.UntagUsers(cctx, job.TagID, openIDs)
					cancel()
					calls++
					if err != nil {
						e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + ?", calls)})
						return err
					}
				}
				force = false
				if err := e.updateJob(ctx, id, map[string]any{"untag_cursor": rows[len(rows)-1].ID, "untagged": gorm.Expr("untagged + ?", len(rows)),
					"calls": gorm.Expr("calls + ?", calls)}); err != nil {
					return err
				}
				continue
			}
		}
		if _, err := e.tagLimit.Take(ctx, 1); err != nil {
			return err
		}
		cctx, cancel := e.callCtx(ctx)
		err := e.o.Mass.DeleteTag(cctx, job.TagID)
		cancel()
		switch code := notify.Code(err); {
		case err == nil || code == 45159: // deleted (45159: it is gone already)
			e.s.log.InfoContext(ctx, "broadcast: mass send's tag deleted", "broadcast", id, "tag", job.TagID)
			return e.updateJob(ctx, id, map[string]any{"tag_deleted_at": e.s.now(), "calls": gorm.Expr("calls + 1")})
		case code == wxapi.CodeTagTooBig:
			force = true
			if err := e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + 1")}); err != nil {
				return err
			}
		default:
			e.updateJob(ctx, id, map[string]any{"calls": gorm.Expr("calls + 1")})
			return err
		}
	}
	return ctx.Err()
}
