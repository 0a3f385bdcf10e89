package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Teller sends one notice to one official-account user and says when users last wrote
// (*notify.Notifier): the customer-service message inside the 48-hour window, the template message
// outside it, chosen in one place.
type Teller interface {
	TellSeen(ctx context.Context, openID string, last time.Time, note notify.Notice) (notify.Result, error)
	LastSeen(ctx context.Context, openIDs []string) (map[string]time.Time, error)
}

// EngineOptions tune delivery. Zero values take the defaults.
type EngineOptions struct {
	Redis  redis.UniversalClient
	Teller Teller
	// Rate is the WeChat sends per second allowed across every process (0: DefaultRate; < 0:
	// unlimited); Burst how many may go at once (default Rate/10, at least 1).
	Rate  float64
	Burst int
	// Workers read the queue in this process (default 4); each sends one batch at a time with up to
	// Senders calls in flight (default 16).
	Workers, Senders int
	// Batch is how many recipients one queue entry carries (default 100); Expand how many members one
	// expansion step turns into recipients (default 5,000).
	Batch, Expand int
	// MaxAttempts: a recipient failing with retryable errors this often is failed ("retries used
	// up"); default 5. Backoff is the first retry's wait, doubled each time (default 5 s).
	MaxAttempts int
	Backoff     time.Duration
	// ClaimLease: how long a worker holds recipients it claimed (default 60 s); HandOut: how long
	// after a pass over the due recipients ended the next one starts even though the queue is not
	// empty (default 3 min; see feed).
	ClaimLease, HandOut time.Duration
	// SendTimeout bounds one WeChat call (default 5 s). Poll is how often the database is asked for due
	// broadcasts (default 2 s).
	SendTimeout, Poll time.Duration
	// Backlog: queue entries an owner keeps waiting at most (default from the rate: about 30 s of
	// work, 4–200).
	Backlog int
	// OwnerLease: how long a process owns a broadcast without renewing (default
	// kv.BroadcastOwnerTTL); a killed owner's broadcast is taken over after it.
	OwnerLease time.Duration
	// Mass is the WeChat tag and mass-send API (*wxapi.Client) for broadcasts sent by mass send (see
	// mass.go); nil: they go the per-recipient way like any other. TagRate is its calls per second
	// across every process (default DefaultTagRate; < 0 unlimited). TagBatch is how many recipients one
	// step sorts and tags (default 1,000: 20 batchtagging calls). MassAttempts: sendall tries refused
	// with a retryable error before the job fails (default 8). TagKeep: how long a mass send's tag is
	// kept for WeChat's report before it is deleted anyway (default 1 h).
	Mass         Masser
	TagRate      float64
	TagBatch     int
	MassAttempts int
	TagKeep      time.Duration
	// PersonalLinks gives, for broadcast id of some kind, each recipient's own link (a survey's form, a
	// notice's page, signed for him: opening it marks him read); nil func or nil result: the
	// broadcast's Link for everyone. It is asked once per broadcast a process sends.
	PersonalLinks func(ctx context.Context, id uint, kind, payload string) (func(memberID uint) string, error)
	// Recorded, if set, is told of the outcomes this process recorded: n recipients sent, failed,
	// queued for a retry ("retry") or given back untried ("released"). The server counts them per
	// process (a metric), which shows how the work spreads across processes.
	Recorded func(outcome string, n int)
}

// Outcomes Recorded is told of.
const (
	OutcomeSent     = "sent"
	OutcomeFailed   = "failed"
	OutcomeRetry    = "retry"
	OutcomeReleased = "released"
)

// DefaultRate is the broadcast send rate when none is configured: well inside what WeChat takes from
// one account (template messages: 100,000 a day by default, bursts throttled with 45011).
const DefaultRate = 200

// Engine delivers broadcasts: it polls for due ones, owns some (expanding and feeding them) and runs
// the workers that send. One per process; Run it in `yanzhen serve`.
type Engine struct {
	s     *Service
	rdb   redis.UniversalClient
	tell  Teller
	o     EngineOptions
	limit *Limiter
	me    string // this process's name in the consumer group and the owner leases

	mu     sync.Mutex
	owning map[uint]bool   // broadcasts this process owns (an owner goroutine runs)
	states map[uint]string // broadcast states as of the last poll, for the workers
	notes  map[uint]notify.Notice
	links  map[uint]func(memberID uint) string // PersonalLinks of the broadcasts being sent (nil: none)

	inFlight atomic.Int64 // recipients claimed and not yet recorded by this process

	tagLimit  *Limiter           // the tag and mass-send API calls (mass.go)
	cleanWait map[uint]time.Time // mass tags whose deletion failed: not before
}

// NewEngine makes the delivery engine of s.
func NewEngine(s *Service, o EngineOptions) *Engine {
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Rate < 0 {
		o.Rate = 0
	}
	if o.Burst <= 0 {
		o.Burst = max(1, int(o.Rate/10))
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, 4)
	def(&o.Senders, 16)
	def(&o.Batch, 100)
	def(&o.Expand, 5000)
	def(&o.MaxAttempts, 5)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&o.Backoff, 5*time.Second)
	defd(&o.ClaimLease, 60*time.Second)
	defd(&o.HandOut, 3*time.Minute)
	defd(&o.SendTimeout, 5*time.Second)
	defd(&o.Poll, 2*time.Second)
	defd(&o.OwnerLease, kv.BroadcastOwnerTTL)
	def(&o.TagBatch, 1000)
	def(&o.MassAttempts, 8)
	defd(&o.TagKeep, time.Hour)
	if o.TagRate == 0 {
		o.TagRate = DefaultTagRate
	}
	if o.Backlog <= 0 {
		o.Backlog = 200
		if o.Rate > 0 {
			o.Backlog = min(200, max(4, int(o.Rate*30)/o.Batch))
		}
	}
	host, _ := os.Hostname()
	return &Engine{s: s, rdb: o.Redis, tell: o.Teller, o: o, limit: NewLimiter(o.Redis, kv.BroadcastRateKey, o.Rate, o.Burst),
		me: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(3)), owning: map[uint]bool{}, states: map[uint]string{},
		notes: map[uint]notify.Notice{}, links: map[uint]func(uint) string{},
		tagLimit: NewLimiter(o.Redis, kv.BroadcastTagRateKey, max(o.TagRate, 0), max(1, int(o.TagRate/4))), cleanWait: map[uint]time.Time{}}
}

// InFlightWindow is the most recipients this process holds claimed at once: a `kill -9` may send
// these again after restart (the duplicates are bounded by it, and counted).
func (e *Engine) InFlightWindow() int { return e.o.Workers * e.o.Batch }

// Run delivers until ctx ends: the poller, the owners it starts and the workers. It returns once they
// have stopped (in-flight sends finish and are recorded).
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range e.o.Workers {
		wg.Go(func() { e.worker(ctx, i) })
	}
	wg.Go(func() { e.autoclaim(ctx) })
	t := time.NewTicker(e.o.Poll)
	defer t.Stop()
	for {
		if err := e.poll(ctx, &wg); err != nil && ctx.Err() == nil {
			e.s.log.WarnContext(ctx, "broadcast: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// activeStates are the states the poller watches (a cancelled broadcast until its last recipients
// are swept).
var activeStates = []string{models.BroadcastScheduled, models.BroadcastSending, models.BroadcastPaused, models.BroadcastCancelled}

// poll reads the due broadcasts (one cheap query on an index), refreshes the workers' view of their
// states and starts an owner for each due one this process can take over.
func (e *Engine) poll(ctx context.Context, wg *sync.WaitGroup) error {
	var bs []models.Broadcast
	err := e.s.db.WithContext(ctx).Select("id, status, send_at, title, text, link").
		Where("status IN ? AND finished_at IS NULL", activeStates).Find(&bs).Error
	if err != nil {
		return fmt.Errorf("broadcast: due broadcasts: %w", err)
	}
	now := e.s.now()
	e.mu.Lock()
	clear(e.states)
	for _, b := range bs {
		e.states[b.ID] = b.Status
		e.notes[b.ID] = noticeOf(&b)
	}
	for id := range e.links { // asked again if it comes back (resumed)
		if _, ok := e.states[id]; !ok {
			delete(e.links, id)
		}
	}
	e.mu.Unlock()
	for _, b := range bs {
		if b.Status == models.BroadcastScheduled && b.SendAt.After(now) {
			continue
		}
		e.mu.Lock()
		busy := e.owning[b.ID]
		e.mu.Unlock()
		if busy {
			continue
		}
		ok, err := e.own(ctx, b.ID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		e.mu.Lock()
		e.owning[b.ID] = true
		e.mu.Unlock()
		id := b.ID
		wg.Go(func() {
			defer func() {
				e.mu.Lock()
				delete(e.owning, id)
				e.mu.Unlock()
				e.disown(context.WithoutCancel(ctx), id)
			}()
			if err := e.ownerLoop(ctx, id); err != nil && ctx.Err() == nil {
				e.s.log.ErrorContext(ctx, "broadcast: owner", "broadcast", id, "err", err)
			}
		})
	}
	return e.pollMass(ctx, wg)
}

// noticeOf is what a broadcast's recipients are told.
func noticeOf(b *models.Broadcast) notify.Notice {
	text := b.Text
	if b.Link != "" {
		text += "\n" + b.Link
	}
	title := b.Title
	if title == "" {
		title = "通知"
	}
	return notify.Notice{Title: title, Text: text, Kind: title, Status: "请查看", Remark: clipRunes(b.Text, 60), URL: b.Link}
}

// personal is the notice with the recipient's own link, when the broadcast gives one. It takes the
// place of the broadcast's Link (his notice page shows that one as 查看原文), so that opening it is
// seen (read).
func personal(note notify.Notice, link func(uint) string, memberID uint) notify.Notice {
	if link == nil {
		return note
	}
	if u := link(memberID); u != "" {
		if note.URL != "" {
			note.Text = strings.TrimSuffix(note.Text, "\n"+note.URL)
		}
		note.URL = u
		note.Text += "\n" + u
	}
	return note
}

// ownScript takes (or renews) a lease held as "owner|deadline ms": free, expired or already ours.
// Deadlines are kept in the value (checked against Redis's clock), not only in the TTL, because the
// embedded Redis does not expire keys by itself.
var ownScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call("GET", KEYS[1])
if v then
  local sep = string.find(v, "|", 1, true)
  if sep and string.sub(v, 1, sep - 1) ~= ARGV[1] and tonumber(string.sub(v, sep + 1)) > now then
    return 0
  end
end
redis.call("SET", KEYS[1], ARGV[1] .. "|" .. string.format("%d", now + tonumber(ARGV[2])), "PX", ARGV[2])
return 1
`)

// disownScript drops the lease if it is ours.
var disownScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. "|" then
  return redis.call("DEL", KEYS[1])
end
return 0
`)

func (e *Engine) own(ctx context.Context, id uint) (bool, error) {
	n, err := ownScript.Run(ctx, e.rdb, []string{kv.BroadcastOwnerKey(id)}, e.me, e.o.OwnerLease.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("broadcast: own %d: %w", id, err)
	}
	return n == 1, nil
}

func (e *Engine) disown(ctx context.Context, id uint) {
	disownScript.Run(ctx, e.rdb, []string{kv.BroadcastOwnerKey(id)}, e.me)
}

// ownerLoop expands and feeds one broadcast while this process owns it, until it is final.
func (e *Engine) ownerLoop(ctx context.Context, id uint) error {
	var pass feedPass
	renewed := time.Now()
	for ctx.Err() == nil {
		if time.Since(renewed) > e.o.OwnerLease/3 {
			ok, err := e.own(ctx, id)
			if err != nil || !ok {
				return err
			}
			renewed = time.Now()
		}
		busy, final, err := e.step(ctx, id, &pass)
		if err != nil || final {
			return err
		}
		wait := e.o.Poll / 4
		if busy {
			wait = 20 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// Step does one piece of an owner's work on broadcast id (tests drive it; Run's owners loop on it):
// start it, expand a batch of its audience, or feed due recipients to the queue; and mark it done
// when nothing is left. busy: there is more to do at once; final: the broadcast is over.
// feedPass is where an owner is in its walk over a broadcast's due recipients: the last id fed, and
// when the previous pass ended.
type feedPass struct {
	cursor uint64
	ended  time.Time
	mass   massPass // a mass broadcast's (mass.go)
}

func (e *Engine) step(ctx context.Context, id uint, pass *feedPass) (busy, final bool, err error) {
	db := e.s.db.WithContext(ctx)
	var b models.Broadcast
	if err := db.Take(&b, id).Error; err != nil {
		return false, false, fmt.Errorf("broadcast: load %d: %w", id, err)
	}
	now := e.s.now()
	switch b.Status {
	case models.BroadcastScheduled:
		if b.SendAt.After(now) {
			return false, true, nil // not yet: the poller starts an owner again when it is due
		}
		err := db.Model(&models.Broadcast{}).Where("id = ? AND status = ?", id, models.BroadcastScheduled).
			Updates(map[string]any{"status": models.BroadcastSending, "started_at": now, "updated_at": now}).Error
		if err != nil {
			return false, false, fmt.Errorf("broadcast: start %d: %w", id, err)
		}
		e.s.log.InfoContext(ctx, "broadcast: started", "broadcast", id)
		return true, false, nil
	case models.BroadcastPaused, models.BroadcastPending:
		return false, b.Status == models.BroadcastPending, nil
	case models.BroadcastCancelled:
		if busy, err := e.massCancelled(ctx, &b); err != nil || busy {
			return busy, false, err
		}
		if err := cancelQueued(db, id, now); err != nil {
			return false, false, err
		}
		left, err := e.anyQueued(ctx, id)
		if err != nil || left {
			return false, false, err
		}
		err = db.Model(&models.Broadcast{}).Where("id = ?", id).Updates(map[string]any{"finished_at": now, "updated_at": now}).Error
		return false, true, err
	case models.BroadcastSending:
	default:
		return false, true, nil
	}
	massBusy := false
	if b.Channel == models.SendMass && e.o.Mass != nil {
		// Expanded first, then sorted (and tagged) in batches: only sorted recipients are fed.
		if massBusy, err = e.massStep(ctx, &b, pass); err != nil || b.ExpandedAt == nil {
			return massBusy, false, err
		}
	}
	if b.ExpandedAt == nil {
		// Recipients of the batches expanded so far are fed at once: sending starts within a step.
		if err := e.expand(ctx, &b); err != nil {
			return false, false, err
		}
		_, err := e.feed(ctx, &b, pass)
		return true, false, err
	}
	fed, err := e.feed(ctx, &b, pass)
	if err != nil || fed > 0 || massBusy {
		return fed > 0 || massBusy, false, err
	}
	if pass.cursor != 0 {
		// The end of a pass. The next one (retries due, recipients whose worker died or whose entry
		// was lost) starts from the beginning once this one's entries have left the queue.
		pass.cursor, pass.ended = 0, now
		return false, false, nil
	}
	left, err := e.anyQueued(ctx, id)
	if err != nil || left {
		return false, false, err
	}
	// The final figures are counted from the rows once, whatever happened on the way.
	if err := rebuildTallies(db, id); err != nil {
		return false, false, err
	}
	res := db.Model(&models.Broadcast{}).Where("id = ? AND status = ?", id, models.BroadcastSending).
		Updates(map[string]any{"status": models.BroadcastDone, "finished_at": now, "updated_at": now})
	if res.Error != nil {
		return false, false, fmt.Errorf("broadcast: finish %d: %w", id, res.Error)
	}
	e.s.log.InfoContext(ctx, "broadcast: done", "broadcast", id)
	return false, res.RowsAffected == 1, nil
}

func (e *Engine) anyQueued(ctx context.Context, id uint) (bool, error) {
	var ids []uint64
	err := e.s.db.WithContext(ctx).Model(&models.Delivery{}).Where("broadcast_id = ? AND status IN ?", id, []string{models.DeliveryQueued, models.DeliveryTagged}).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("broadcast: queued recipients of %d: %w", id, err)
	}
	return len(ids) > 0, nil
}

// expand turns the next batch of the audience (members in id order after the cursor) into delivery
// rows, in one transaction with the cursor, so that an expansion cut short resumes where it stopped.
// Members with no official-account openid are recorded as skipped.
func (e *Engine) expand(ctx context.Context, b *models.Broadcast) error {
	db := e.s.db.WithContext(ctx)
	var paths []string
	if err := db.Model(&models.BroadcastOrg{}).Where("broadcast_id = ?", b.ID).Pluck("path", &paths).Error; err != nil {
		return fmt.Errorf("broadcast: audience of %d: %w", b.ID, err)
	}
	// The orgs of the subtrees, by id: a few hundred ids make a cheaper filter than a join per batch.
	var orgIDs []uint
	q := db.Model(&models.Org{}).Where("1 = 0")
	for _, p := range paths {
		q = q.Or("path = ? OR path LIKE ? ESCAPE '!'", p, scope.SubtreeLike(p))
	}
	if err := q.Pluck("id", &orgIDs).Error; err != nil {
		return fmt.Errorf("broadcast: audience orgs of %d: %w", b.ID, err)
	}
	now := e.s.now()
	finish := func(tx *gorm.DB) error {
		return tx.Model(&models.Broadcast{}).Where("id = ?", b.ID).Updates(map[string]any{"expanded_at": now, "updated_at": now}).Error
	}
	if len(orgIDs) == 0 {
		return finish(db)
	}
	// A batch is the next Expand members by id, of the audience or not: finding its end walks the
	// primary key alone, and the filter runs once, inside the insert.
	var ends []uint
	if err := db.Table("members").Where("id > ?", b.ExpandCursor).Order("id").Offset(e.o.Expand-1).Limit(1).Pluck("id", &ends).Error; err != nil {
		return fmt.Errorf("broadcast: expand %d: %w", b.ID, err)
	}
	last := len(ends) == 0
	insert, ignore := insertIgnore(db)
	sql := insert + ` deliveries (broadcast_id, member_id, org_id, open_id, status, due_at, claim, attempts, unsure, dup, via, err_code, reason, updated_at)
SELECT ?, id, org_id, COALESCE(oa_open_id, ''), CASE WHEN oa_open_id IS NULL THEN ? ELSE ? END, ?, '', 0, ?, 0, '', 0,
  CASE WHEN oa_open_id IS NULL THEN ? ELSE '' END, ?
FROM members WHERE active = ? AND id > ? AND org_id IN ?`
	args := []any{b.ID, models.DeliverySkipped, models.DeliveryQueued, now, false, reasonUnbound, now, true, b.ExpandCursor, orgIDs}
	if !last {
		sql += " AND id <= ?"
		args = append(args, ends[0])
	}
	if b.Roles != "" {
		sql += " AND role IN ?"
		args = append(args, strings.Split(b.Roles, ","))
	}
	if of := remindOf(b); of != 0 { // a reminder: those the notice reached who have not opened it
		sql += " AND id IN (SELECT member_id FROM deliveries WHERE broadcast_id = ? AND status = ? AND read_at IS NULL)"
		args = append(args, of, models.DeliverySent)
	}
	sql += ignore
	return db.Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(sql, args...)
		if res.Error != nil {
			return fmt.Errorf("broadcast: expand %d: %w", b.ID, res.Error)
		}
		upd := map[string]any{"recipients": gorm.Expr("recipients + ?", res.RowsAffected), "updated_at": now}
		if last {
			upd["expanded_at"] = now
		} else {
			upd["expand_cursor"] = ends[0]
		}
		if err := tx.Model(&models.Broadcast{}).Where("id = ?", b.ID).Updates(upd).Error; err != nil {
			return fmt.Errorf("broadcast: expand %d: cursor: %w", b.ID, err)
		}
		var to uint
		if !last {
			to = ends[0]
		}
		if err := tallyRange(tx, b.ID, b.ExpandCursor, to); err != nil {
			return err
		}
		if last {
			e.s.log.InfoContext(ctx, "broadcast: audience expanded", "broadcast", b.ID)
		}
		return nil
	})
}

// reasonUnbound is why a member with no WeChat bound is skipped.
const reasonUnbound = "未绑定微信"

// feed hands due recipients (queued, free, due) to the queue in batches, keeping at most Backlog
// entries waiting. It returns how many it handed out. A pass walks the recipients in id order (so
// 600,000 rows are never rescanned); rows are not marked when handed out (that would cost a write
// per recipient): instead a new pass starts only when the queue is empty — every entry of the last
// pass was taken, given back, or lost with the queue — or HandOut after the last pass ended (other
// broadcasts keep the queue busy). Rows a live worker holds are not due; rows fed twice are claimed
// once.
func (e *Engine) feed(ctx context.Context, b *models.Broadcast, pass *feedPass) (int, error) {
	db := e.s.db.WithContext(ctx)
	now := e.s.now()
	waiting, err := e.rdb.XLen(ctx, kv.BroadcastQueueKey).Result()
	if err != nil {
		return 0, fmt.Errorf("broadcast: queue length: %w", err)
	}
	if pass.cursor == 0 && !pass.ended.IsZero() && waiting > 0 && now.Sub(pass.ended) < e.o.HandOut {
		return 0, nil
	}
	room := e.o.Backlog - int(waiting)
	if room <= 0 {
		return 0, nil
	}
	room = min(room, 50) // a step stays short: the owner renews its lease between steps
	var ids []uint64
	q := db.Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ? AND id > ? AND due_at <= ?", b.ID, models.DeliveryQueued, pass.cursor, now)
	if pass.mass.limited {
		q = q.Where("id <= ?", pass.mass.upTo) // a mass broadcast's sorted rows only
	}
	err = q.Order("id").Limit(room*e.o.Batch).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("broadcast: due recipients of %d: %w", b.ID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	pipe := e.rdb.Pipeline()
	for i := 0; i < len(ids); i += e.o.Batch {
		part := ids[i:min(i+e.o.Batch, len(ids))]
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: kv.BroadcastQueueKey, MaxLen: kv.BroadcastQueueMaxLen, Approx: true,
			Values: []any{"b", b.ID, "ids", joinIDs(part)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("broadcast: queue recipients of %d: %w", b.ID, err)
	}
	pass.cursor = ids[len(ids)-1]
	return len(ids), nil
}

func joinIDs(ids []uint64) string {
	var sb strings.Builder
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(id, 10))
	}
	return sb.String()
}

func splitIDs(s string) []uint64 {
	out := make([]uint64, 0, strings.Count(s, ",")+1)
	for _, f := range strings.Split(s, ",") {
		if id, err := strconv.ParseUint(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// ensureGroup creates the consumer group (and the stream) once.
func (e *Engine) ensureGroup(ctx context.Context) error {
	err := e.rdb.XGroupCreateMkStream(ctx, kv.BroadcastQueueKey, kv.BroadcastGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("broadcast: consumer group: %w", err)
	}
	return nil
}

// worker reads queue entries through the consumer group and delivers them.
func (e *Engine) worker(ctx context.Context, n int) {
	consumer := e.me
	grouped := false
	for ctx.Err() == nil {
		if !grouped {
			if err := e.ensureGroup(ctx); err != nil {
				e.s.log.WarnContext(ctx, "broadcast: worker", "err", err)
				sleep(ctx, time.Second)
				continue
			}
			grouped = true
		}
		// During a cool-down the queue is left alone: an entry taken now would only be claimed and
		// given back, over and over (a 45009 stops sending for minutes).
		if left := e.cooldownLeft(ctx); left > 0 {
			sleep(ctx, min(left, e.o.Poll))
			continue
		}
		// The read is not cut short when ctx ends: a blocked read given up on the client's side may
		// still take an entry on the server's (the embedded Redis does), which then waits for a
		// takeover. It ends by itself within Poll; an entry it brings after ctx ended is given back.
		res, err := e.rdb.XReadGroup(context.WithoutCancel(ctx), &redis.XReadGroupArgs{Group: kv.BroadcastGroup, Consumer: consumer,
			Streams: []string{kv.BroadcastQueueKey, ">"}, Count: 1, Block: e.o.Poll}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if ctx.Err() != nil {
			for _, st := range res {
				for _, m := range st.Messages {
					e.giveBack(context.WithoutCancel(ctx), m)
				}
			}
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "NOGROUP") {
				grouped = false // the queue was lost (an embedded Redis restarted, a flush)
			} else {
				e.s.log.WarnContext(ctx, "broadcast: read the queue", "err", err)
			}
			sleep(ctx, time.Second)
			continue
		}
		for _, st := range res {
			for _, m := range st.Messages {
				e.handle(ctx, m)
			}
		}
	}
}

// autoclaim takes over queue entries that a consumer read and never finished (its process died) once
// they have been idle for the claim lease.
func (e *Engine) autoclaim(ctx context.Context) {
	for sleep(ctx, e.o.ClaimLease/2) {
		if e.cooldownLeft(ctx) > 0 {
			continue
		}
		msgs, _, err := e.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: kv.BroadcastQueueKey, Group: kv.BroadcastGroup,
			Consumer: e.me, MinIdle: e.o.ClaimLease, Start: "0-0", Count: 50}).Result()
		if err != nil {
			continue
		}
		for _, m := range msgs {
			e.handle(ctx, m)
		}
	}
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle delivers one queue entry and removes it from the queue. A delivery that fails (the database
// down) is tried again, a second, then longer apart, for half the claim lease — the entry is its to
// finish until then, and the broadcast goes on as soon as the database is back; after that it stays
// pending, and another worker takes it over once the lease has run out.
func (e *Engine) handle(ctx context.Context, m redis.XMessage) {
	bid, _ := strconv.ParseUint(fmt.Sprint(m.Values["b"]), 10, 64)
	ids := splitIDs(fmt.Sprint(m.Values["ids"]))
	start, wait := time.Now(), time.Second
	for {
		err := e.Deliver(ctx, uint(bid), ids)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(start)+wait > e.o.ClaimLease/2 {
			e.s.log.ErrorContext(ctx, "broadcast: deliver", "broadcast", bid, "err", err)
			return
		}
		e.s.log.WarnContext(ctx, "broadcast: deliver, trying again", "broadcast", bid, "in", wait, "err", err)
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
	bg := context.WithoutCancel(ctx)
	pipe := e.rdb.Pipeline()
	pipe.XAck(bg, kv.BroadcastQueueKey, kv.BroadcastGroup, m.ID)
	pipe.XDel(bg, kv.BroadcastQueueKey, m.ID)
	if _, err := pipe.Exec(bg); err != nil {
		e.s.log.WarnContext(ctx, "broadcast: acknowledge", "err", err)
	}
}

// giveBack returns an entry this process will not work on (it is stopping): it leaves the queue, and
// its recipients, still due, are fed again in the owner's next pass.
func (e *Engine) giveBack(ctx context.Context, m redis.XMessage) {
	pipe := e.rdb.Pipeline()
	pipe.XAck(ctx, kv.BroadcastQueueKey, kv.BroadcastGroup, m.ID)
	pipe.XDel(ctx, kv.BroadcastQueueKey, m.ID)
	pipe.Exec(ctx)
}

// stateOf is a broadcast's state as the last poll saw it, or from the database when the poll has not
// seen it yet or saw it not sending (it may have started since).
func (e *Engine) stateOf(ctx context.Context, id uint) (string, notify.Notice, func(uint) string, error) {
	e.mu.Lock()
	st, ok := e.states[id]
	note := e.notes[id]
	link, linked := e.links[id]
	e.mu.Unlock()
	if ok && st == models.BroadcastSending && linked {
		return st, note, link, nil
	}
	var b models.Broadcast
	if err := e.s.db.WithContext(ctx).Select("id, kind, payload, status, title, text, link").Take(&b, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", note, nil, nil
		}
		return "", note, nil, fmt.Errorf("broadcast: state of %d: %w", id, err)
	}
	note = noticeOf(&b)
	if e.o.PersonalLinks != nil && !linked {
		var err error
		if link, err = e.o.PersonalLinks(ctx, b.ID, b.Kind, b.Payload); err != nil {
			return "", note, nil, fmt.Errorf("broadcast: links of %d: %w", id, err)
		}
	}
	e.mu.Lock()
	e.states[id], e.notes[id], e.links[id] = b.Status, note, link
	e.mu.Unlock()
	return b.Status, note, link, nil
}

// claimed is one recipient a worker holds.
type claimed struct {
	ID       uint64
	OpenID   string
	Attempts int
	OrgID    uint
	MemberID uint
	Dup      int64
}

// outcome is how one send went.
type outcome struct {
	d       claimed
	via     string
	err     error
	skipped bool // not tried (a cool-down began, or the process is stopping)
}

// Deliver sends broadcast id to the recipients ids (one queue entry): it claims those still queued
// and free in the database, sends under the shared rate limit, and records every outcome. Tests call
// it directly; workers call it for each entry.
func (e *Engine) Deliver(ctx context.Context, id uint, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	st, note, link, err := e.stateOf(ctx, id)
	if err != nil {
		return err
	}
	if st != models.BroadcastSending {
		return nil // paused, cancelled or gone: the owner hands them out again (or sweeps them)
	}
	db := e.s.db.WithContext(ctx)
	now := e.s.now()
	leaseEnd := time.Now().Add(e.o.ClaimLease)
	token := randomHex(8)
	// A row whose earlier claim was never resolved (a worker died) or whose last send timed out may
	// have reached him already: this send counts as a possible duplicate.
	// (The assignments are in this order on purpose: MySQL evaluates them left to right.)
	res := db.Exec(`UPDATE deliveries SET dup = dup + CASE WHEN claim <> '' OR unsure THEN 1 ELSE 0 END, unsure = ?, claim = ?,
  due_at = ?, attempts = attempts + 1
WHERE id IN ? AND status = ? AND (claim = '' OR due_at <= ?)`, false, token, now.Add(e.o.ClaimLease), ids, models.DeliveryQueued, now)
	if res.Error != nil {
		return fmt.Errorf("broadcast: claim recipients of %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	var ds []claimed
	if err := db.Model(&models.Delivery{}).Select("id, open_id, attempts, org_id, member_id, dup").Where("id IN ? AND claim = ?", ids, token).Find(&ds).Error; err != nil {
		return fmt.Errorf("broadcast: claimed recipients of %d: %w", id, err)
	}
	e.inFlight.Add(int64(len(ds)))
	defer e.inFlight.Add(-int64(len(ds)))

	openIDs := make([]string, len(ds))
	for i, d := range ds {
		openIDs[i] = d.OpenID
	}
	last, err := e.tell.LastSeen(ctx, openIDs)
	if err != nil {
		last = map[string]time.Time{} // no window known: template messages for everyone
	}
	outs := e.send(ctx, ds, last, note, link)
	// What went out is recorded even when the process is stopping.
	return e.recordPersisting(ctx, id, token, outs, leaseEnd)
}

// recordPersisting records a batch's outcomes, trying again while the database does not answer (it
// restarts, fails over) until the claim runs out at leaseEnd, or for a few seconds more when the
// process is stopping: given up, the batch's recipients stay claimed and the next worker to take them
// sends every one of them again, a duplicate for each that went out. A late write is harmless: it
// changes only rows this claim still holds.
func (e *Engine) recordPersisting(ctx context.Context, id uint, token string, outs []outcome, leaseEnd time.Time) error {
	bg := context.WithoutCancel(ctx)
	wait := 250 * time.Millisecond
	for {
		err := e.recordOutcomes(bg, id, token, outs)
		if err == nil {
			return nil
		}
		if stop := time.Now().Add(5 * time.Second); ctx.Err() != nil && stop.Before(leaseEnd) {
			leaseEnd = stop // from the first try after the process began stopping
		}
		if time.Now().Add(wait).After(leaseEnd) {
			return err
		}
		e.s.log.WarnContext(bg, "broadcast: outcomes not recorded, trying again", "broadcast", id, "recipients", len(outs), "err", err)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// send sends to every claimed recipient, Senders at a time, taking permits from the shared limiter
// in small batches and stopping early for a cool-down or when ctx ends.
func (e *Engine) send(ctx context.Context, ds []claimed, last map[string]time.Time, note notify.Notice, link func(uint) string) []outcome {
	outs := make([]outcome, len(ds))
	work := make(chan int)
	var wg sync.WaitGroup
	var stop atomic.Bool
	for range min(e.o.Senders, len(ds)) {
		wg.Go(func() {
			for i := range work {
				d := ds[i]
				if stop.Load() || ctx.Err() != nil {
					outs[i] = outcome{d: d, skipped: true}
					continue
				}
				// In-flight sends finish even when the process is stopping: cut short, they would
				// have an unknown outcome and be counted as possible duplicates when retried.
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.SendTimeout)
				r, err := e.tell.TellSeen(sctx, d.OpenID, last[d.OpenID], personal(note, link, d.MemberID))
				cancel()
				outs[i] = outcome{d: d, via: r.Via, err: err}
				if unreachable(err) {
					// Nothing reached him and nothing is wrong with him: the attempt is given back and
					// every server pauses, so that an outage of minutes uses up nobody's retries.
					outs[i] = outcome{d: d, skipped: true}
				}
				if pause, why := pauseFor(err); pause > 0 {
					stop.Store(true)
					e.coolDown(context.WithoutCancel(ctx), pause, why, err)
				}
			}
		})
	}
	i := 0
	for i < len(ds) {
		if stop.Load() || ctx.Err() != nil || !e.waitCooldown(ctx) {
			break
		}
		n, err := e.limit.Take(ctx, min(e.o.Senders, len(ds)-i))
		if err != nil {
			break
		}
		for j := 0; j < n && i < len(ds); j++ {
			work <- i
			i++
		}
	}
	for ; i < len(ds); i++ {
		outs[i] = outcome{d: ds[i], skipped: true}
	}
	close(work)
	wg.Wait()
	return outs
}

// unreachable reports a failure that says WeChat as a whole is out of reach (no connection, an HTTP
// error status such as 503, no access token to be had) rather than anything about the recipient; the
// message certainly did not reach him. A timeout is not one: it may have.
func unreachable(err error) bool {
	return err != nil && notify.Code(err) == 0 && notify.NotDelivered(err) && !errors.Is(err, notify.ErrNoWay) && !notify.Permanent(err)
}

// busyPause is the pause after WeChat said it is busy (-1), the longest one a worker waits out
// (waitCooldown) instead of leaving its batch to the queue.
const busyPause = 2 * time.Second

// pauseFor is how long every server stops sending after err, and why as the console says it; 0 when
// err is about the recipient alone (45047 is one person's quota: his alone) or nil. WeChat out of
// reach: 5 s, how often a server looks whether it is back.
func pauseFor(err error) (time.Duration, string) {
	switch code := notify.Code(err); {
	case unreachable(err):
		return 5 * time.Second, "微信接口暂时连不上"
	case code == -1:
		return busyPause, "微信系统繁忙"
	case code == 45011:
		return 10 * time.Second, "调用微信接口太频繁"
	case code == 45009:
		return 10 * time.Minute, "微信接口今天的调用次数已用完"
	}
	return 0, ""
}

// coolDownScript sets the cool-down's deadline (KEYS[1], ARGV[1] unix ms) and its reason (KEYS[2],
// ARGV[3]) for ARGV[2] ms, unless one that ends later is in force: a "busy" after a used-up quota
// must not cut the quota's pause short. 1 when set.
var coolDownScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
`)

// coolDown stops every server's sending for d, because of err (why: as the console says it). The
// deadline is the value (the embedded Redis does not expire keys by itself), the reason beside it.
func (e *Engine) coolDown(ctx context.Context, d time.Duration, why string, err error) {
	until := time.Now().Add(d).UnixMilli()
	set, rerr := coolDownScript.Run(ctx, e.rdb, []string{kv.BroadcastCooldownKey, kv.BroadcastCooldownWhyKey}, until, d.Milliseconds(), why).Int()
	switch {
	case rerr != nil: // the next take of the limiter fails on Redis anyway
		e.s.log.WarnContext(ctx, "broadcast: WeChat busy or out of reach; the pause could not be recorded", "err", err, "redis_err", rerr)
	case set == 1:
		e.s.log.WarnContext(ctx, "broadcast: WeChat busy or out of reach, sending paused", "for", d, "err", err)
	} // else a longer pause is in force
}

// Paused tells whether every server has stopped sending for now (WeChat out of reach or busy, a
// quota used up), for how much longer, and why; recipients wait queued meanwhile and nothing is lost.
func (e *Engine) Paused(ctx context.Context) (left time.Duration, why string) {
	if left = e.cooldownLeft(ctx); left <= 0 {
		return 0, ""
	}
	why, _ = e.rdb.Get(ctx, kv.BroadcastCooldownWhyKey).Result()
	if why == "" {
		why = "微信暂时不能发送" // set by a server of an earlier version
	}
	return left, why
}

// cooldownLeft is how long the cool-down goes on (0: none, or Redis unreachable: the limiter fails
// next anyway).
func (e *Engine) cooldownLeft(ctx context.Context) time.Duration {
	v, err := e.rdb.Get(ctx, kv.BroadcastCooldownKey).Int64()
	if err != nil {
		return 0
	}
	return max(time.Until(time.UnixMilli(v)), 0)
}

// waitCooldown waits out a short cool-down (a "system busy"'s); false when ctx ended or the cool-down
// is longer (WeChat out of reach, a quota used up): the caller gives up the rest of its batch, and
// the workers leave the queue alone until it ends.
func (e *Engine) waitCooldown(ctx context.Context) bool {
	wait := e.cooldownLeft(ctx)
	if wait <= 0 {
		return true
	}
	if wait > busyPause {
		return false
	}
	return sleep(ctx, wait)
}

// Reasons of failures, as the console and the command line show them.
func reasonOf(err error) string {
	switch code := notify.Code(err); {
	case errors.Is(err, notify.ErrNoWay):
		return "48小时内没有互动，且未配置模板消息"
	case code == notify.CodeNotFollowing:
		return "已取消关注公众号"
	case code == notify.CodeBadOpenID:
		return "微信账号无效"
	case code == notify.CodeNoAuth:
		return "用户未授权接收订阅通知"
	case code == notify.CodeQuotaUsed:
		return "客服消息次数已用完"
	case code == notify.CodeWindowClosed:
		return "已超出48小时互动期"
	case code == 45009:
		return "接口调用次数已达当日上限"
	case code == -1:
		return "微信系统繁忙"
	case code != 0:
		return "微信拒绝发送（" + strconv.FormatInt(code, 10) + "）"
	case !notify.NotDelivered(err):
		return "请求超时"
	}
	return "网络错误"
}

// result is the database change of a group of outcomes.
type result struct {
	status, via, reason string
	code                int
	unsure              bool
	due                 time.Time // retries: when the next attempt may go
	release             bool      // not tried: the attempt is given back
}

// recordOutcomes writes the outcomes of a batch, one statement per kind of outcome.
func (e *Engine) recordOutcomes(ctx context.Context, id uint, token string, outs []outcome) error {
	now := e.s.now()
	groups := map[result][]claimed{}
	dues := map[int]time.Time{} // one backoff per attempt count, so that a batch's retries are one statement
	due := func(attempts int) time.Time {
		if _, ok := dues[attempts]; !ok {
			dues[attempts] = now.Add(e.backoff(attempts))
		}
		return dues[attempts]
	}
	for _, o := range outs {
		var r result
		switch {
		case o.skipped:
			r = result{status: models.DeliveryQueued, release: true, due: now}
		case o.err == nil:
			r = result{status: models.DeliverySent, via: o.via}
		case notify.Permanent(o.err):
			r = result{status: models.DeliveryFailed, via: o.via, code: int(notify.Code(o.err)), reason: reasonOf(o.err)}
		case o.d.Attempts >= e.o.MaxAttempts:
			r = result{status: models.DeliveryFailed, via: o.via, code: int(notify.Code(o.err)), reason: "重试次数用完：" + reasonOf(o.err),
				unsure: !notify.NotDelivered(o.err)}
		default:
			r = result{status: models.DeliveryQueued, code: int(notify.Code(o.err)), reason: reasonOf(o.err),
				unsure: !notify.NotDelivered(o.err), due: due(o.d.Attempts)}
		}
		groups[r] = append(groups[r], o.d)
	}
	deltas := map[tallyKey]tallyDelta{}
	matched := true
	err := e.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for r, ds := range groups {
			ids := make([]uint64, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
				if r.status != models.DeliveryQueued {
					q, f := deltas[tallyKey{d.OrgID, models.DeliveryQueued}], deltas[tallyKey{d.OrgID, r.status}]
					q.n--
					f.n++
					f.dup += d.Dup
					deltas[tallyKey{d.OrgID, models.DeliveryQueued}], deltas[tallyKey{d.OrgID, r.status}] = q, f
				}
			}
			n, err := e.recordGroup(tx, r, ids, token, now)
			if err != nil {
				return fmt.Errorf("broadcast: record outcomes of %d: %w", id, err)
			}
			matched = matched && n == int64(len(ids))
		}
		if !matched {
			return nil // rebuilt below, from the rows
		}
		return upsertTallies(tx, id, deltas)
	})
	if err == nil && !matched {
		err = rebuildTallies(e.s.db.WithContext(ctx), id)
	}
	if err == nil && e.o.Recorded != nil {
		for r, ds := range groups {
			e.o.Recorded(r.outcome(), len(ds))
		}
	}
	return err
}

// outcome names r for EngineOptions.Recorded.
func (r result) outcome() string {
	switch {
	case r.release:
		return OutcomeReleased
	case r.status == models.DeliverySent:
		return OutcomeSent
	case r.status == models.DeliveryFailed:
		return OutcomeFailed
	}
	return OutcomeRetry
}

// recordGroup writes one kind of outcome to the rows ids this worker still holds (token); it returns
// how many it wrote.
func (e *Engine) recordGroup(tx *gorm.DB, r result, ids []uint64, token string, now time.Time) (int64, error) {
	upd := map[string]any{"claim": "", "status": r.status, "updated_at": now}
	switch {
	case r.release:
		upd["attempts"] = gorm.Expr("attempts - 1")
		upd["due_at"] = r.due
	case r.status == models.DeliverySent:
		upd["via"], upd["sent_at"], upd["err_code"], upd["reason"] = r.via, now, 0, ""
	case r.status == models.DeliveryFailed:
		upd["via"], upd["err_code"], upd["reason"], upd["unsure"] = r.via, r.code, r.reason, r.unsure
	default:
		upd["err_code"], upd["reason"], upd["unsure"], upd["due_at"] = r.code, r.reason, r.unsure, r.due
	}
	res := tx.Model(&models.Delivery{}).Where("id IN ? AND claim = ?", ids, token).UpdateColumns(upd)
	return res.RowsAffected, res.Error
}

// backoff is the wait before attempt n+1: Backoff doubled per attempt, with jitter, at most an hour.
func (e *Engine) backoff(attempts int) time.Duration {
	d := float64(e.o.Backoff) * math.Pow(2, float64(max(attempts-1, 0)))
	d = math.Min(d, float64(time.Hour))
	return time.Duration(d * (0.75 + mrand.Float64()/2))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
