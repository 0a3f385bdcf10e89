// Package broadcast sends notices (and, later, surveys) to the members of chosen org subtrees and
// roles, and shows per recipient and per village how it went.
//
// The database is the source of truth: a broadcast and one Delivery row per recipient (unique per
// broadcast × member). Any server process (`yanzhen serve`) notices a due broadcast by polling the
// database, takes it over (a Redis lease), expands its audience into delivery rows in batches and
// feeds them, a batch per entry, to a Redis stream that the workers of every process read through one
// consumer group. A worker claims its rows in the database before sending (so two copies of an entry
// never send twice), sends through package notify (customer-service message inside the 48-hour
// window, template message outside it) under a rate limit shared by all processes, and records each
// outcome. Rows whose hand-out or claim expired (a process killed, a queue lost with an embedded
// Redis) are fed again, so a `kill -9` loses no recipient; duplicates are bounded by the rows claimed
// and not yet recorded (the in-flight window) and counted. See docs/PERFORMANCE.md for why Redis
// Streams and not a task queue.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Limits of a notice.
const (
	MaxText  = 600 // runes: a customer-service text a phone shows without scrolling forever
	MaxLink  = 500
	MaxTitle = 20
	MaxOrgs  = 50
)

// ErrState: the broadcast is not in a state that allows this (approve a running one, resume a
// finished one...).
var ErrState = errors.New("broadcast: not possible in this state")

// Recorder writes an audit entry in the transaction of the change (console.Service.Record).
type Recorder func(ctx context.Context, tx *gorm.DB, v *console.Viewer, ch console.Change) error

// Service is the broadcast capability: creating and managing broadcasts, their figures, and (Engine)
// their delivery.
type Service struct {
	db     *gorm.DB
	log    *slog.Logger
	now    func() time.Time
	record Recorder
	notes  noticeLinks // the notices' personal links (see UseNoticeLinks); none by default
	massAt int         // ChannelAuto sends by mass send from this audience (MassThreshold; 0: never)
}

// New makes the service. record may be nil (no audit log).
func New(db *gorm.DB, log *slog.Logger, now func() time.Time, record Recorder) *Service {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, now: now, record: record, massAt: MassThreshold}
}

// NoticeInput is a new notice. OrgPaths name the audience's subtrees; Roles limit it (none: every
// role). SendAt zero: now.
type NoticeInput struct {
	OrgPaths      []string
	OrgIDs        []uint // the same by id (the console's form); both may be given
	Roles         []string
	Title         string
	Text          string
	Link          string
	SendAt        time.Time
	NeedsApproval bool
	// Channel is how it goes out: ChannelAuto ("" too), ChannelMass or ChannelDirect (channel.go).
	Channel string
	// Kind and Payload: what the broadcast carries; "" is a notice. A survey's broadcast (survey.Send)
	// is models.BroadcastSurvey with {"survey_id":N}.
	Kind    string
	Payload string
}

// Create records a notice. v is who creates it (nil: the command line); his scope bounds the audience.
func (s *Service) Create(ctx context.Context, v *console.Viewer, in NoticeInput) (*models.Broadcast, error) {
	var b *models.Broadcast
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		b, err = s.CreateTx(ctx, tx, v, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// CreateTx is Create in the caller's transaction tx: the one place that checks, builds and audits a
// broadcast (survey.Send records its survey's in the transaction that opens the survey).
func (s *Service) CreateTx(ctx context.Context, tx *gorm.DB, v *console.Viewer, in NoticeInput) (*models.Broadcast, error) {
	kind, what := in.Kind, "通知"
	switch kind {
	case "", models.BroadcastNotice:
		kind = models.BroadcastNotice
	case models.BroadcastSurvey:
		if in.Payload == "" {
			return nil, errors.New("broadcast: a survey's broadcast without its payload")
		}
		what = "问卷"
	default:
		return nil, fmt.Errorf("broadcast: unknown kind %q", in.Kind)
	}
	sc := scope.Everything()
	by, byID := "cli", (*uint)(nil)
	if v != nil {
		if !v.IsAdmin() {
			return nil, console.ErrNotAllowed
		}
		sc, by = v.Scope, v.Username
		id := v.AccountID
		byID = &id
	}
	in.Text = strings.TrimSpace(in.Text)
	in.Link = strings.TrimSpace(in.Link)
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Text == "":
		return nil, console.Invalid("text", "请填写通知内容")
	case utf8.RuneCountInString(in.Text) > MaxText:
		return nil, console.Invalid("text", "通知内容最多 %d 个字（现在 %d 个）", MaxText, utf8.RuneCountInString(in.Text))
	case len(in.Link) > MaxLink:
		return nil, console.Invalid("link", "链接太长了（最多 %d 个字符）", MaxLink)
	case in.Link != "" && !strings.HasPrefix(in.Link, "https://") && !strings.HasPrefix(in.Link, "http://"):
		return nil, console.Invalid("link", "链接应以 https:// 或 http:// 开头")
	case utf8.RuneCountInString(in.Title) > MaxTitle:
		return nil, console.Invalid("title", "标题最多 %d 个字", MaxTitle)
	}
	roles, err := cleanRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if in.SendAt.IsZero() || in.SendAt.Before(now) {
		if !in.SendAt.IsZero() && now.Sub(in.SendAt) > time.Minute {
			return nil, console.Invalid("send_at", "发送时间已经过去了")
		}
		in.SendAt = now
	}
	if in.SendAt.After(now.AddDate(0, 3, 0)) {
		return nil, console.Invalid("send_at", "发送时间最多定在三个月以内")
	}

	tx = tx.WithContext(ctx)
	orgs, err := s.audienceOrgs(tx, sc, in.OrgPaths, in.OrgIDs)
	if err != nil {
		return nil, err
	}
	channel, err := s.channelFor(tx, strings.TrimSpace(in.Channel), kind, orgs, roles)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(orgs))
	for i, o := range orgs {
		paths[i] = o.Path
	}
	b := models.Broadcast{Kind: kind, Title: in.Title, Text: in.Text, Link: in.Link, Payload: in.Payload,
		Roles: strings.Join(roles, ","), OrgPath: commonRoot(paths), Status: models.BroadcastScheduled,
		NeedsApproval: in.NeedsApproval, SendAt: in.SendAt.UTC(), CreatedBy: by, CreatedByID: byID,
		CreatedAt: now, UpdatedAt: now, Channel: channel}
	if in.NeedsApproval {
		b.Status = models.BroadcastPending
	}
	for _, o := range orgs {
		b.Orgs = append(b.Orgs, models.BroadcastOrg{OrgID: o.ID, Path: o.Path})
	}
	if err := tx.Omit("Orgs.Org").Create(&b).Error; err != nil {
		return nil, fmt.Errorf("broadcast: create: %w", err)
	}
	how := ""
	if channel == models.SendMass {
		how = "，按标签群发"
	}
	err = s.audit(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: "broadcast", ObjectID: b.ID,
		OrgPath: b.OrgPath, Summary: fmt.Sprintf("新建群发%s（%s%s）：%s", what, audienceText(paths, roles), how, clipRunes(b.Text, 40)),
		After: auditView(&b)})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func (s *Service) audit(ctx context.Context, tx *gorm.DB, v *console.Viewer, ch console.Change) error {
	if s.record == nil {
		return nil
	}
	return s.record(ctx, tx, v, ch)
}

// auditView is what the audit log keeps of a broadcast.
func auditView(b *models.Broadcast) map[string]any {
	paths := make([]string, len(b.Orgs))
	for i, o := range b.Orgs {
		paths[i] = o.Path
	}
	return map[string]any{"id": b.ID, "status": b.Status, "text": b.Text, "link": b.Link, "orgs": paths,
		"roles": b.Roles, "send_at": b.SendAt, "needs_approval": b.NeedsApproval, "approved_by": b.ApprovedBy, "channel": b.Channel}
}

// cleanRoles checks and de-duplicates the roles.
func cleanRoles(in []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		if !models.ValidRole(r) {
			return nil, console.Invalid("roles", "没有「%s」这个角色（可选：%s）", clipRunes(r, 10), strings.Join(models.Roles, "、"))
		}
		seen[r] = true
		out = append(out, r)
	}
	sort.Strings(out)
	return out, nil
}

// audienceOrgs loads the named orgs, each in the scope sc. Orgs under another chosen org are dropped
// (the subtree above holds them already).
func (s *Service) audienceOrgs(db *gorm.DB, sc scope.Scope, paths []string, ids []uint) ([]models.Org, error) {
	var orgs []models.Org
	seen := map[uint]bool{}
	add := func(o models.Org) error {
		if err := sc.Check(o.Path); err != nil {
			return err // forbidden, without naming it
		}
		if !seen[o.ID] {
			seen[o.ID] = true
			orgs = append(orgs, o)
		}
		return nil
	}
	for _, p := range paths {
		p = strings.Trim(strings.TrimSpace(p), "/")
		if p == "" {
			continue
		}
		var o models.Org
		err := db.Where("path = ?", p).Take(&o).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, console.Invalid("orgs", "没有找到组织「%s」（应写全路径，如 洪雅县/花溪镇）", clipRunes(p, 40))
		}
		if err != nil {
			return nil, fmt.Errorf("broadcast: org %q: %w", p, err)
		}
		if err := add(o); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		var o models.Org
		err := db.Where("id = ?", id).Take(&o).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, console.Invalid("orgs", "没有找到所选的组织")
		}
		if err != nil {
			return nil, fmt.Errorf("broadcast: org %d: %w", id, err)
		}
		if err := add(o); err != nil {
			return nil, err
		}
	}
	if len(orgs) == 0 {
		return nil, console.Invalid("orgs", "请选择至少一个组织")
	}
	if len(orgs) > MaxOrgs {
		return nil, console.Invalid("orgs", "一次最多选 %d 个组织", MaxOrgs)
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].Path < orgs[j].Path })
	out := orgs[:0]
	for _, o := range orgs {
		if len(out) > 0 && scope.Under(0, out[len(out)-1].Path).Contains(o.Path) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// commonRoot is the deepest path holding all of paths ("" when they share no county).
func commonRoot(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	root := strings.Split(paths[0], "/")
	for _, p := range paths[1:] {
		parts := strings.Split(p, "/")
		n := 0
		for n < len(root) && n < len(parts) && root[n] == parts[n] {
			n++
		}
		root = root[:n]
	}
	return strings.Join(root, "/")
}

// audienceText describes an audience in a few words.
func audienceText(paths []string, roles []string) string {
	who := "全体"
	if len(roles) > 0 {
		who = strings.Join(roles, "、")
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, p[strings.LastIndexByte(p, '/')+1:])
	}
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("等 %d 个组织", len(paths)))
	}
	return strings.Join(names, "、") + " " + who
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Get loads a broadcast with its orgs. ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, id uint) (*models.Broadcast, error) {
	var b models.Broadcast
	err := s.db.WithContext(ctx).Preload("Orgs", func(db *gorm.DB) *gorm.DB { return db.Order("path") }).Take(&b, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, scope.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("broadcast: load %d: %w", id, err)
	}
	return &b, nil
}

// Visible reports whether a viewer with scope sc may see broadcast b: its audience reaches into his
// part of the tree (an org of the audience is in his scope, or his scope is under one of them). What
// he sees of it is then limited to his people.
func Visible(sc scope.Scope, b *models.Broadcast) bool {
	if sc.All {
		return true
	}
	for _, o := range b.Orgs {
		if sc.Contains(o.Path) || scope.Under(0, o.Path).Contains(sc.Path) {
			return true
		}
	}
	return false
}

// Manages reports whether the viewer may change b (approve, pause, resume, cancel): an administrator
// whose scope holds the whole audience.
func Manages(v *console.Viewer, b *models.Broadcast) bool {
	if !v.IsAdmin() {
		return false
	}
	for _, o := range b.Orgs {
		if !v.Scope.Contains(o.Path) {
			return false
		}
	}
	return len(b.Orgs) > 0
}

// OrgsFor are the paths of b's audience that a viewer with scope sc may read (in his part of the tree
// or above it), and whether some were left out.
func OrgsFor(sc scope.Scope, b *models.Broadcast) (paths []string, more bool) {
	for _, o := range b.Orgs {
		if sc.All || sc.Contains(o.Path) || scope.Under(0, o.Path).Contains(sc.Path) {
			paths = append(paths, o.Path)
		} else {
			more = true
		}
	}
	return paths, more
}

// ForViewer loads broadcast id as v may see it: ErrNotFound when it does not reach his scope.
func (s *Service) ForViewer(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Visible(v.Scope, b) {
		return nil, scope.ErrNotFound
	}
	return b, nil
}

// visibleIn limits a query on broadcasts to those reaching the scope.
func visibleIn(sc scope.Scope) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if sc.All {
			return db
		}
		if sc.Path == "" {
			return db.Where("1 = 0")
		}
		var above []string // the scope's org and its ancestors
		parts := strings.Split(sc.Path, "/")
		for i := range parts {
			above = append(above, strings.Join(parts[:i+1], "/"))
		}
		return db.Where("EXISTS (SELECT 1 FROM broadcast_orgs bo WHERE bo.broadcast_id = broadcasts.id AND (bo.path IN ? OR bo.path LIKE ? ESCAPE '!'))",
			above, scope.SubtreeLike(sc.Path))
	}
}

// List is the broadcasts reaching the scope, newest first, and how many there are.
func (s *Service) List(ctx context.Context, sc scope.Scope, offset, limit int) ([]models.Broadcast, int64, error) {
	db := s.db.WithContext(ctx).Model(&models.Broadcast{}).Scopes(visibleIn(sc))
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("broadcast: count: %w", err)
	}
	var bs []models.Broadcast
	err := db.Preload("Orgs", func(db *gorm.DB) *gorm.DB { return db.Order("path") }).
		Order("id DESC").Offset(offset).Limit(limit).Find(&bs).Error
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast: list: %w", err)
	}
	return bs, total, nil
}

// change moves a broadcast from one of the states from to state to, for a viewer who manages it,
// with an audit entry; also runs extra in the same transaction.
func (s *Service) change(ctx context.Context, v *console.Viewer, id uint, from []string, to string, action, summary string,
	set map[string]any, extra func(tx *gorm.DB, b *models.Broadcast) error) (*models.Broadcast, error) {
	b, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !Manages(v, b) {
		return nil, console.ErrNotAllowed
	}
	before := auditView(b)
	now := s.now()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{"status": to, "updated_at": now}
		for k, x := range set {
			upd[k] = x
		}
		res := tx.Model(&models.Broadcast{}).Where("id = ? AND status IN ?", id, from).Updates(upd)
		if res.Error != nil {
			return fmt.Errorf("broadcast: %s %d: %w", action, id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrState
		}
		if err := tx.Preload("Orgs").Take(b, id).Error; err != nil {
			return fmt.Errorf("broadcast: reload %d: %w", id, err)
		}
		if extra != nil {
			if err := extra(tx, b); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "broadcast", ObjectID: id,
			OrgPath: b.OrgPath, Summary: fmt.Sprintf("%s群发通知 #%d：%s", summary, id, clipRunes(b.Text, 30)),
			Before: before, After: auditView(b)})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Approve lets a broadcast waiting for a second administrator go out (at its SendAt). The approver
// must not be the one who made it.
func (s *Service) Approve(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	b, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !Manages(v, b) {
		return nil, console.ErrNotAllowed
	}
	if b.Status != models.BroadcastPending {
		return nil, ErrState
	}
	if b.CreatedByID != nil && *b.CreatedByID == v.AccountID {
		return nil, console.Invalid("approve", "需要另一位管理员审批，不能审批自己发起的群发")
	}
	now := s.now()
	return s.change(ctx, v, id, []string{models.BroadcastPending}, models.BroadcastScheduled, "approve", "审批通过",
		map[string]any{"approved_by": v.Username, "approved_at": now}, nil)
}

// Pause stops a scheduled or sending broadcast; what is in flight still finishes.
func (s *Service) Pause(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	return s.change(ctx, v, id, []string{models.BroadcastScheduled, models.BroadcastSending}, models.BroadcastPaused, "pause", "暂停", nil, nil)
}

// Resume sends a paused broadcast on (or, paused before it started, waits for its time again); its
// waiting recipients are handed out again at once.
func (s *Service) Resume(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	now := s.now()
	b, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return nil, err
	}
	to := models.BroadcastSending
	if b.StartedAt == nil {
		to = models.BroadcastScheduled
	}
	return s.change(ctx, v, id, []string{models.BroadcastPaused}, to, "resume", "继续发送", nil,
		func(tx *gorm.DB, b *models.Broadcast) error {
			err := tx.Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ? AND claim = ?", id, models.DeliveryQueued, "").
				UpdateColumn("due_at", now).Error
			if err != nil {
				return fmt.Errorf("broadcast: resume %d: %w", id, err)
			}
			return nil
		})
}

// Cancel stops a broadcast for good: recipients not yet sent to are marked cancelled (those in a
// worker's hands finish and are recorded as they went).
func (s *Service) Cancel(ctx context.Context, v *console.Viewer, id uint) (*models.Broadcast, error) {
	now := s.now()
	return s.change(ctx, v, id, []string{models.BroadcastPending, models.BroadcastScheduled, models.BroadcastSending, models.BroadcastPaused},
		models.BroadcastCancelled, "cancel", "取消", nil, func(tx *gorm.DB, b *models.Broadcast) error {
			return cancelQueued(tx, id, now)
		})
}

// cancelQueued marks the queued recipients that no worker holds cancelled (and counts the tallies
// again when there were some).
func cancelQueued(tx *gorm.DB, id uint, now time.Time) error {
	res := tx.Model(&models.Delivery{}).Where("broadcast_id = ? AND status = ? AND (claim = ? OR due_at <= ?)", id, models.DeliveryQueued, "", now).
		UpdateColumns(map[string]any{"status": models.DeliveryCancelled, "claim": "", "reason": "群发已取消", "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("broadcast: cancel the recipients of %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return rebuildTallies(tx, id)
}

// Counts are a broadcast's recipients by state. Dup counts sends that may have reached someone twice.
// Read and Answered are beside the states: recipients who opened the page their message linked to, and
// who answered (a survey's); see Mark.
type Counts struct {
	Queued, Sent, Failed, Skipped, Cancelled, Answered int64
	Read                                               int64
	Dup                                                int64
	Tagged                                             int64 // of Queued: tagged for a mass send, waiting for it
}

// ReadRate is the part of the recipients WeChat took who opened their link, in percent (at most 100:
// a recipient whose send timed out may still have read it).
func (c Counts) ReadRate() float64 {
	if c.Sent == 0 {
		return 0
	}
	return min(float64(c.Read)*100/float64(c.Sent), 100)
}

// Total is every recipient.
func (c Counts) Total() int64 { return c.Queued + c.Sent + c.Failed + c.Skipped + c.Cancelled }

// Done is the recipients in a final state.
func (c Counts) Done() int64 { return c.Total() - c.Queued }

func (c *Counts) add(status string, n, dup int64) {
	switch status {
	case models.DeliveryQueued:
		c.Queued += n
	case models.DeliveryTagged:
		c.Queued += n
		c.Tagged += n
	case models.DeliverySent:
		c.Sent += n
	case models.DeliveryFailed:
		c.Failed += n
	case models.DeliverySkipped:
		c.Skipped += n
	case models.DeliveryCancelled:
		c.Cancelled += n
	case TallyRead:
		c.Read += n
		return
	case TallyAnswered:
		c.Answered += n
		return
	}
	c.Dup += dup
}

// ReasonCount is how many recipients failed (or were skipped) for one reason.
type ReasonCount struct {
	Status  string
	ErrCode int
	Reason  string
	N       int64
}

// UnitCount is a village's (an org's) recipients by state.
type UnitCount struct {
	OrgID uint
	Path  string
	Counts
}

// Progress is how a broadcast is going, as a viewer may see it.
type Progress struct {
	Counts
	Reasons []ReasonCount
	Units   []UnitCount
}

// deliveriesIn limits a query on deliveries to the recipients of orgs in the scope.
func deliveriesIn(sc scope.Scope) func(*gorm.DB) *gorm.DB { return sc.ByOrg("deliveries.org_id") }

// Progress counts broadcast id's recipients in the scope (sc.All: everyone) from its tallies (a few
// hundred rows however many recipients); withUnits adds the figures per org (village) and the reasons
// of failures.
func (s *Service) Progress(ctx context.Context, sc scope.Scope, id uint, withUnits bool) (*Progress, error) {
	db := s.db.WithContext(ctx)
	p := &Progress{}
	var tallies []models.BroadcastTally
	err := db.Scopes(sc.ByOrg("broadcast_tallies.org_id")).Where("broadcast_id = ?", id).Find(&tallies).Error
	if err != nil {
		return nil, fmt.Errorf("broadcast: progress of %d: %w", id, err)
	}
	byOrg := map[uint]*UnitCount{}
	var ids []uint
	for _, t := range tallies {
		p.add(t.Status, t.N, t.Dup)
		if !withUnits {
			continue
		}
		uc := byOrg[t.OrgID]
		if uc == nil {
			uc = &UnitCount{OrgID: t.OrgID}
			byOrg[t.OrgID] = uc
			ids = append(ids, t.OrgID)
		}
		uc.add(t.Status, t.N, t.Dup)
	}
	if !withUnits {
		return p, nil
	}
	// The reasons of failures: failed rows are few (and skipped ones have one reason: no WeChat).
	err = db.Model(&models.Delivery{}).Scopes(deliveriesIn(sc)).Select("status, err_code, reason, COUNT(*) AS n").
		Where("broadcast_id = ? AND status = ?", id, models.DeliveryFailed).
		Group("status, err_code, reason").Order("n DESC").Limit(50).Scan(&p.Reasons).Error
	if err != nil {
		return nil, fmt.Errorf("broadcast: reasons of %d: %w", id, err)
	}
	if p.Skipped > 0 {
		p.Reasons = append(p.Reasons, ReasonCount{Status: models.DeliverySkipped, Reason: reasonUnbound, N: p.Skipped})
	}
	for i := 0; i < len(ids); i += 1000 {
		var orgs []models.Org
		if err := db.Select("id, path").Where("id IN ?", ids[i:min(i+1000, len(ids))]).Find(&orgs).Error; err != nil {
			return nil, fmt.Errorf("broadcast: unit names of %d: %w", id, err)
		}
		for _, o := range orgs {
			byOrg[o.ID].Path = o.Path
		}
	}
	for _, id := range ids {
		if u := byOrg[id]; u.Total() > 0 {
			p.Units = append(p.Units, *u)
		}
	}
	sort.Slice(p.Units, func(i, j int) bool { return p.Units[i].Path < p.Units[j].Path })
	return p, nil
}

// Recipient is one delivery row as the console lists it.
type Recipient struct {
	MemberID uint
	Name     string
	Path     string
	Status   string
	ErrCode  int
	Reason   string
	Via      string
	Attempts int
	SentAt   *time.Time
	ReadAt   *time.Time
	Answered *time.Time `gorm:"column:answered_at"`
}

// FilterUnread lists, in Recipients, those WeChat took who have not opened their link (TallyRead:
// those who have).
const FilterUnread = "unread"

// Recipients lists broadcast id's recipients in the scope with a state (status "" = any; TallyRead:
// opened their link; FilterUnread: sent and not opened): by state (cancelled, failed, queued, sent,
// skipped: the failed ones come first), then as they were expanded. known, when not nil, are the
// counts of the same scope (from Progress): the total is taken from them instead of counting again.
func (s *Service) Recipients(ctx context.Context, sc scope.Scope, id uint, status string, offset, limit int, known *Counts) ([]Recipient, int64, error) {
	db := s.db.WithContext(ctx).Model(&models.Delivery{}).Scopes(deliveriesIn(sc)).Where("deliveries.broadcast_id = ?", id)
	switch status {
	case "":
	case TallyRead:
		db = db.Where("deliveries.read_at IS NOT NULL")
	case FilterUnread:
		db = db.Where("deliveries.status = ? AND deliveries.read_at IS NULL", models.DeliverySent)
	default:
		db = db.Where("deliveries.status = ?", status)
	}
	var total int64
	if known != nil && status != FilterUnread { // unread: counted (a read row may be in any state)
		switch status {
		case TallyRead:
			total = known.Read
		case "":
			total = known.Total()
		case models.DeliveryQueued:
			total = known.Queued - known.Tagged
		case models.DeliveryTagged:
			total = known.Tagged
		case models.DeliverySent:
			total = known.Sent
		case models.DeliveryFailed:
			total = known.Failed
		case models.DeliverySkipped:
			total = known.Skipped
		case models.DeliveryCancelled:
			total = known.Cancelled
		}
	} else if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("broadcast: count recipients of %d: %w", id, err)
	}
	// The page's rows first, then their names: joined before the limit, PostgreSQL would join every
	// recipient of a big broadcast.
	var out []Recipient
	page := db.Select("deliveries.id, deliveries.member_id, deliveries.org_id, deliveries.status, deliveries.err_code, deliveries.reason, deliveries.via, deliveries.attempts, deliveries.sent_at, deliveries.read_at, deliveries.answered_at").
		Order("deliveries.status, deliveries.id").Offset(offset).Limit(limit) // the order of idx_delivery_status: failed first
	err := s.db.WithContext(ctx).Table("(?) d", page).
		Select("d.member_id, m.name, o.path, d.status, d.err_code, d.reason, d.via, d.attempts, d.sent_at, d.read_at, d.answered_at").
		Joins("JOIN members m ON m.id = d.member_id").Joins("JOIN orgs o ON o.id = d.org_id").Order("d.status, d.id").Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast: recipients of %d: %w", id, err)
	}
	return out, total, nil
}

// StatusNames are the broadcast states as people read them.
var StatusNames = map[string]string{
	models.BroadcastPending: "待审批", models.BroadcastScheduled: "待发送", models.BroadcastSending: "发送中",
	models.BroadcastPaused: "已暂停", models.BroadcastDone: "已完成", models.BroadcastCancelled: "已取消",
}

// DeliveryNames are the recipients' states as people read them.
var DeliveryNames = map[string]string{
	models.DeliveryQueued: "排队中", models.DeliverySent: "已送达", models.DeliveryFailed: "失败",
	models.DeliverySkipped: "未绑定微信", models.DeliveryCancelled: "已取消", models.DeliveryTagged: "待群发",
}

// insertIgnore is "INSERT … ON CONFLICT DO NOTHING" on every dialect.
func insertIgnore(db *gorm.DB) (prefix, suffix string) {
	if db.Dialector.Name() == "mysql" {
		return "INSERT IGNORE INTO", ""
	}
	return "INSERT INTO", " ON CONFLICT DO NOTHING"
}
