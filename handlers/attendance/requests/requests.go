// Package requests is leave (请假), make-up (补卡) and off-site (外勤) requests: a member asks in the chat,
// the secretaries of his village are told, and a secretary decides in the chat or an administrator in
// the console; the member is told the result. A decision writes what it implies (a make-up check-in,
// an off-site check-in made good or refused) with its audit record in one transaction, and has the
// daily status of past days recomputed.
//
// Leave is limited by a quota of days per member per calendar year (DefaultLeaveDays, or the county's
// own): a request that would take a member over it is refused when he sends it (pending requests
// count), and an approval that would is refused too, with the reason. Days are calendar days; half a
// day (上午 / 下午) counts as a whole day. Make-up requests are limited per member per month.
package requests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Teller tells a member something outside a conversation (notify.Notifier).
type Teller interface {
	Tell(ctx context.Context, openID string, note notify.Notice) (notify.Result, error)
}

// Recorder writes an audit entry in the transaction of the change (console.Service.Record).
type Recorder interface {
	Record(ctx context.Context, db *gorm.DB, v *console.Viewer, ch console.Change) error
}

// Options configure the service.
type Options struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Now      func() time.Time
	Location *time.Location
	Notifier Teller   // nil: nobody is told
	Audit    Recorder // nil: decisions are not audited (tests of the parser only)
	// Recompute rewrites the daily status of these members for a past day (server's partHooks); nil
	// or returning an error leaves it to the nightly job (logged).
	Recompute func(ctx context.Context, memberIDs []uint, day string) error
}

// Service is the requests capability.
type Service struct {
	db        *gorm.DB
	log       *slog.Logger
	now       func() time.Time
	loc       *time.Location
	tell      Teller
	audit     Recorder
	recompute func(ctx context.Context, memberIDs []uint, day string) error
}

// New makes the service.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return &Service{db: o.DB, log: o.Log, now: o.Now, loc: o.Location, tell: o.Notifier, audit: o.Audit, recompute: o.Recompute}
}

// Refusal is a request or decision that cannot be made, with the reason for people (Chinese).
type Refusal = ParseError

// DecidedError: the request was decided (or canceled) already; nothing changed.
type DecidedError struct{ Req *Row }

func (e *DecidedError) Error() string { return "requests: already " + e.Req.State }

// errDecidedMeanwhile: another decider claimed the request between the read and the write.
var errDecidedMeanwhile = errors.New("requests: decided meanwhile")

// ErrNotFound: no such request (or not the caller's to see).
var ErrNotFound = scope.ErrNotFound

// ObjectRequest is the audit log's object of a decision.
const ObjectRequest = "attend_request"

// Row is a request with its member and org.
type Row struct {
	models.AttendRequest
	MemberName string
	OrgPath    string
}

// Today is the local date.
func (s *Service) Today() time.Time { return todayOf(s.now(), s.loc) }

// KindName is a kind as people read it.
func KindName(kind string) string {
	switch kind {
	case models.RequestLeave:
		return "请假"
	case models.RequestMakeup:
		return "补卡"
	case models.RequestOffsite:
		return "外勤"
	}
	return kind
}

// StateName is a state as people read it.
func StateName(state string) string {
	switch state {
	case models.RequestPending:
		return "待审批"
	case models.RequestApproved:
		return "已批准"
	case models.RequestRejected:
		return "未批准"
	case models.RequestCanceled:
		return "已撤销"
	}
	return state
}

// CheckKindName is 签到 or 签退.
func CheckKindName(k string) string {
	if k == models.CheckKindOut {
		return "签退"
	}
	return "签到"
}

// Days is how many days the request covers (a leave's range; one for the others).
func (r *Row) Days() int {
	if r.Kind != models.RequestLeave || r.To == "" {
		return 1
	}
	return daysBetween(r.From, r.To) + 1
}

// What is the request in a few words: 11月25日-11月27日, 11月19日 签到 08:20.
func (r *Row) What(loc *time.Location) string {
	switch r.Kind {
	case models.RequestLeave:
		return RangeLabel(r.From, r.To)
	default:
		s := DayLabel(r.From) + " " + CheckKindName(r.CheckKind)
		if r.At != nil {
			s += " " + r.At.In(loc).Format("15:04")
		}
		return s
	}
}

// Village is the last part of the org path.
func (r *Row) Village() string { return r.OrgPath[strings.LastIndexByte(r.OrgPath, '/')+1:] }

// rowQuery selects requests with their member's name and org path.
func (s *Service) rowQuery(ctx context.Context, db *gorm.DB) *gorm.DB {
	return db.WithContext(ctx).Table("attend_requests").
		Select("attend_requests.*, members.name AS member_name, orgs.path AS org_path").
		Joins("JOIN members ON members.id = attend_requests.member_id").
		Joins("JOIN orgs ON orgs.id = attend_requests.org_id")
}

var (
	colFrom = clause.Column{Table: "attend_requests", Name: "from"}
	colTo   = clause.Column{Table: "attend_requests", Name: "to"}
)

// get is one request in the scope.
func (s *Service) get(ctx context.Context, db *gorm.DB, sc scope.Scope, id uint) (*Row, error) {
	var r Row
	err := s.rowQuery(ctx, db).Scopes(sc.ByPath("orgs.path")).Where("attend_requests.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("requests: get %d: %w", id, err)
	}
	return &r, nil
}

// Get is one request in the scope (ErrNotFound otherwise).
func (s *Service) Get(ctx context.Context, sc scope.Scope, id uint) (*Row, error) {
	return s.get(ctx, s.db, sc, id)
}

// Filter chooses requests of a list.
type Filter struct {
	State string // "" = every state
	Kind  string // "" = every kind
	Org   string // an org path: its subtree ("" = the whole scope)
	Month string // "YYYY-MM": requests with a day in that month
}

// List is the requests of the scope matching f: pending first (oldest first, the queue), then the
// others, newest first. It returns a page and the total.
//
// The two parts are read separately, each in id order with a limit, so that a county's page does not
// sort every request of the years behind it.
func (s *Service) List(ctx context.Context, sc scope.Scope, f Filter, offset, limit int) ([]Row, int64, error) {
	filtered := func(q *gorm.DB) *gorm.DB {
		q = q.Scopes(sc.ByOrg("attend_requests.org_id"))
		if f.State != "" {
			q = q.Where("attend_requests.state = ?", f.State)
		}
		if f.Kind != "" {
			q = q.Where("attend_requests.kind = ?", f.Kind)
		}
		if f.Org != "" {
			q = q.Scopes(scope.Under(0, f.Org).ByOrg("attend_requests.org_id"))
		}
		if f.Month != "" {
			first := f.Month + "-01"
			last := dayString(parseDay(first).AddDate(0, 1, -1))
			q = q.Where("? <= ? AND (? >= ? OR (? = '' AND ? >= ?))", colFrom, last, colTo, first, colTo, colFrom, first)
		}
		return q
	}
	count := func(pendingOnly bool) (int64, error) {
		q := filtered(s.db.WithContext(ctx).Table("attend_requests"))
		if pendingOnly {
			q = q.Where("attend_requests.state = ?", models.RequestPending)
		}
		var n int64
		if err := q.Count(&n).Error; err != nil {
			return 0, fmt.Errorf("requests: count: %w", err)
		}
		return n, nil
	}
	total, err := count(false)
	if err != nil {
		return nil, 0, err
	}
	var pending int64
	switch f.State {
	case "":
		if pending, err = count(true); err != nil {
			return nil, 0, err
		}
	case models.RequestPending:
		pending = total
	}
	var rows []Row
	if int64(offset) < pending {
		err := filtered(s.rowQuery(ctx, s.db)).Where("attend_requests.state = ?", models.RequestPending).
			Order("attend_requests.id").Offset(offset).Limit(limit).Find(&rows).Error
		if err != nil {
			return nil, 0, fmt.Errorf("requests: list pending: %w", err)
		}
	}
	if len(rows) < limit && total > pending {
		var rest []Row
		err := filtered(s.rowQuery(ctx, s.db)).Where("attend_requests.state <> ?", models.RequestPending).
			Order("attend_requests.id DESC").Offset(max(0, offset-int(pending))).Limit(limit - len(rows)).Find(&rest).Error
		if err != nil {
			return nil, 0, fmt.Errorf("requests: list: %w", err)
		}
		rows = append(rows, rest...)
	}
	return rows, total, nil
}

// Pending is the queue of a secretary in the chat: the pending requests of his org's subtree, oldest
// first, without his own (those go to the level above).
func (s *Service) Pending(ctx context.Context, sc scope.Scope, self uint, limit int) ([]Row, error) {
	var rows []Row
	err := s.rowQuery(ctx, s.db).Scopes(sc.ByPath("orgs.path")).
		Where("attend_requests.state = ? AND attend_requests.member_id <> ?", models.RequestPending, self).
		Order("attend_requests.id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("requests: pending: %w", err)
	}
	return rows, nil
}

// Mine is a member's latest requests, newest first.
func (s *Service) Mine(ctx context.Context, memberID uint, limit int) ([]Row, error) {
	var rows []Row
	err := s.rowQuery(ctx, s.db).Where("attend_requests.member_id = ?", memberID).
		Order("attend_requests.id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("requests: mine: %w", err)
	}
	return rows, nil
}

// ---- quotas

// Quota is the request limits that apply to the members of a county.
type Quota struct {
	CountyID       uint
	County         string // its path
	LeaveDays      int
	MakeupPerMonth int
	Own            bool // the county set them (else the defaults)
}

func rootOf(path string) string {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// QuotaOf is the quota of the county an org path belongs to.
func (s *Service) QuotaOf(ctx context.Context, orgPath string) (*Quota, error) {
	return s.quotaOf(ctx, s.db, orgPath)
}

func (s *Service) quotaOf(ctx context.Context, db *gorm.DB, orgPath string) (*Quota, error) {
	var county models.Org
	if err := db.WithContext(ctx).Where("path = ?", rootOf(orgPath)).Take(&county).Error; err != nil {
		return nil, fmt.Errorf("requests: county of %s: %w", orgPath, err)
	}
	q := &Quota{CountyID: county.ID, County: county.Path, LeaveDays: models.DefaultLeaveDays, MakeupPerMonth: models.DefaultMakeupsPerMonth}
	var row models.RequestQuota
	err := db.WithContext(ctx).Where("org_id = ?", county.ID).Take(&row).Error
	switch {
	case err == nil:
		q.LeaveDays, q.MakeupPerMonth, q.Own = row.LeaveDays, row.MakeupPerMonth, true
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, fmt.Errorf("requests: quota of %s: %w", county.Path, err)
	}
	return q, nil
}

// Quota limits, for the console's form.
const (
	MaxQuotaLeaveDays = 366
	MaxQuotaMakeups   = 31
)

// SetQuota sets a county's quota (the viewer must be an administrator whose scope holds the whole
// county), audited with before and after. It reports whether anything changed.
func (s *Service) SetQuota(ctx context.Context, v *console.Viewer, countyID uint, leaveDays, makeups int) (bool, error) {
	if !v.IsAdmin() {
		return false, console.ErrNotAllowed
	}
	var county models.Org
	if err := s.db.WithContext(ctx).Where("id = ?", countyID).Take(&county).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return false, scope.ErrNotFound
	} else if err != nil {
		return false, fmt.Errorf("requests: county %d: %w", countyID, err)
	}
	if county.ParentID != nil || !v.Scope.Contains(county.Path) {
		// A town's administrator sees the county's quota but may not change it.
		if v.Scope.Contains(county.Path) || strings.HasPrefix(v.Scope.Path, county.Path+"/") {
			return false, scope.ErrForbidden
		}
		return false, scope.ErrNotFound
	}
	switch {
	case leaveDays < 0 || leaveDays > MaxQuotaLeaveDays:
		return false, console.Invalid("leave_days", "每年请假天数应在 0–%d 之间", MaxQuotaLeaveDays)
	case makeups < 0 || makeups > MaxQuotaMakeups:
		return false, console.Invalid("makeup_per_month", "每月补卡次数应在 0–%d 之间", MaxQuotaMakeups)
	}
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.quotaOf(ctx, tx, county.Path)
		if err != nil {
			return err
		}
		if before.Own && before.LeaveDays == leaveDays && before.MakeupPerMonth == makeups {
			return nil
		}
		row := models.RequestQuota{OrgID: county.ID, LeaveDays: leaveDays, MakeupPerMonth: makeups, UpdatedBy: v.Username, UpdatedAt: s.now()}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "org_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"leave_days", "makeup_per_month", "updated_by", "updated_at"})}).
			Create(&row).Error; err != nil {
			return fmt.Errorf("requests: set quota of %s: %w", county.Path, err)
		}
		changed = true
		if s.audit == nil {
			return nil
		}
		type snap struct {
			LeaveDays      int  `json:"leave_days"`
			MakeupPerMonth int  `json:"makeup_per_month"`
			Default        bool `json:"default,omitempty"`
		}
		return s.audit.Record(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "request_quota", ObjectID: county.ID,
			OrgPath: county.Path, Summary: fmt.Sprintf("修改请假额度：%s 每年 %d 天，每月补卡 %d 次", county.Path, leaveDays, makeups),
			Before: snap{before.LeaveDays, before.MakeupPerMonth, !before.Own}, After: snap{leaveDays, makeups, false}})
	})
	return changed, err
}

// LeaveUse is a member's leave in a year.
type LeaveUse struct {
	Year      int
	Quota     int
	Approved  int // days approved
	Pending   int // days waiting for a decision
	Remaining int // Quota - Approved - Pending (not below 0)
}

// Used is the days taken or asked for.
func (u LeaveUse) Used() int { return u.Approved + u.Pending }

// leaveDaysIn counts the days of the member's approved and pending leave in a year, except request
// skip.
func (s *Service) leaveDaysIn(ctx context.Context, db *gorm.DB, memberID uint, year int, skip uint) (approved, pending int, err error) {
	first, last := fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-12-31", year)
	var rs []models.AttendRequest
	err = db.WithContext(ctx).Where("member_id = ? AND kind = ? AND state IN ? AND id <> ?", memberID, models.RequestLeave,
		[]string{models.RequestPending, models.RequestApproved}, skip).
		Where("? <= ? AND ? >= ?", colFrom, last, colTo, first).Find(&rs).Error
	if err != nil {
		return 0, 0, fmt.Errorf("requests: leave of member %d in %d: %w", memberID, year, err)
	}
	for _, r := range rs {
		n := overlap(r.From, r.To, first, last)
		if r.State == models.RequestApproved {
			approved += n
		} else {
			pending += n
		}
	}
	return approved, pending, nil
}

// overlap is how many days a..b and c..d have in common.
func overlap(a, b, c, d string) int {
	if a < c {
		a = c
	}
	if b > d {
		b = d
	}
	if b < a {
		return 0
	}
	return daysBetween(a, b) + 1
}

// LeaveUseOf is a member's leave in a year against his county's quota.
func (s *Service) LeaveUseOf(ctx context.Context, memberID uint, orgPath string, year int) (LeaveUse, error) {
	q, err := s.quotaOf(ctx, s.db, orgPath)
	if err != nil {
		return LeaveUse{}, err
	}
	a, p, err := s.leaveDaysIn(ctx, s.db, memberID, year, 0)
	if err != nil {
		return LeaveUse{}, err
	}
	return LeaveUse{Year: year, Quota: q.LeaveDays, Approved: a, Pending: p, Remaining: max(q.LeaveDays-a-p, 0)}, nil
}

// ---- asking

// Created is a request just made: the request, the member's leave this year (leave only) and who
// was told.
type Created struct {
	Req      *Row
	Use      LeaveUse
	Told     int // secretaries told
	HalfDay  bool
	Deciders int // secretaries who could be told (bound), 0: it waits in the console
}

// member loads an active member with his org.
func (s *Service) member(ctx context.Context, db *gorm.DB, id uint) (*models.Member, error) {
	var m models.Member
	err := db.WithContext(ctx).Preload("Org").Where("id = ? AND active = ?", id, true).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, &Refusal{Msg: "没有找到你的党员信息，请联系书记。"}
	}
	if err != nil {
		return nil, fmt.Errorf("requests: member %d: %w", id, err)
	}
	return &m, nil
}

// RequestLeave files a leave request for the member: refused when it overlaps his pending or approved
// leave, or would take him over his county's yearly quota (pending requests count).
func (s *Service) RequestLeave(ctx context.Context, memberID uint, l LeaveSpec) (*Created, error) {
	if err := checkLeave(l, s.Today()); err != nil {
		return nil, err
	}
	out := &Created{HalfDay: l.HalfDay}
	// Checks, then one insert, with no transaction around them: on SQLite a transaction that reads and
	// then writes fails when another writer got in between. Two requests of one member at the same
	// moment could pass the quota together; approving re-checks it.
	tx := s.db
	err := func() error {
		m, err := s.member(ctx, tx, memberID)
		if err != nil {
			return err
		}
		var clash []models.AttendRequest
		if err := tx.Where("member_id = ? AND kind = ? AND state IN ?", memberID, models.RequestLeave,
			[]string{models.RequestPending, models.RequestApproved}).
			Where("? <= ? AND ? >= ?", colFrom, l.To, colTo, l.From).Limit(1).Find(&clash).Error; err != nil {
			return fmt.Errorf("requests: overlapping leave: %w", err)
		}
		if len(clash) > 0 {
			c := clash[0]
			return &Refusal{Msg: fmt.Sprintf("这段时间和你已有的请假（%s，%s）重叠了。发送「我的请假」查看。", RangeLabel(c.From, c.To), StateName(c.State))}
		}
		q, err := s.quotaOf(ctx, tx, m.Org.Path)
		if err != nil {
			return err
		}
		for y := parseDay(l.From).Year(); y <= parseDay(l.To).Year(); y++ {
			a, p, err := s.leaveDaysIn(ctx, tx, memberID, y, 0)
			if err != nil {
				return err
			}
			n := overlap(l.From, l.To, fmt.Sprintf("%04d-01-01", y), fmt.Sprintf("%04d-12-31", y))
			if a+p+n > q.LeaveDays {
				return &Refusal{Msg: fmt.Sprintf("%d年每人可请 %d 天假，你已请 %d 天（含待审批），这次 %d 天超出了额度，不能提交。确有需要请直接联系书记。",
					y, q.LeaveDays, a+p, n)}
			}
			if y == parseDay(l.From).Year() {
				out.Use = LeaveUse{Year: y, Quota: q.LeaveDays, Approved: a, Pending: p + n, Remaining: q.LeaveDays - a - p - n}
			}
		}
		now := s.now()
		r := models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestLeave, State: models.RequestPending,
			From: l.From, To: l.To, Reason: l.Reason, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("requests: create leave: %w", err)
		}
		out.Req = &Row{AttendRequest: r, MemberName: m.Name, OrgPath: m.Org.Path}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	out.Told, out.Deciders = s.tellDeciders(ctx, out.Req)
	return out, nil
}

// RequestMakeup files a make-up request: refused when that check-in is there already, asked for
// already, or the month's quota is used.
func (s *Service) RequestMakeup(ctx context.Context, memberID uint, mk MakeupSpec) (*Created, error) {
	out := &Created{}
	tx := s.db // no transaction: see RequestLeave
	err := func() error {
		m, err := s.member(ctx, tx, memberID)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.CheckIn{}).Where("member_id = ? AND day = ? AND kind = ? AND status = ?", memberID, mk.Day, mk.Kind, models.CheckOK).
			Count(&n).Error; err != nil {
			return fmt.Errorf("requests: check-ins of the day: %w", err)
		}
		if n > 0 {
			return &Refusal{Msg: fmt.Sprintf("%s已经有%s记录了，不用补卡。", DayLabel(mk.Day), CheckKindName(mk.Kind))}
		}
		var dup []models.AttendRequest
		if err := tx.Where("member_id = ? AND kind = ? AND check_kind = ? AND state IN ?", memberID, models.RequestMakeup, mk.Kind,
			[]string{models.RequestPending, models.RequestApproved}).Where("? = ?", colFrom, mk.Day).Limit(1).Find(&dup).Error; err != nil {
			return fmt.Errorf("requests: make-up of the day: %w", err)
		}
		if len(dup) > 0 {
			return &Refusal{Msg: fmt.Sprintf("%s的%s补卡已经申请过了（%s）。", DayLabel(mk.Day), CheckKindName(mk.Kind), StateName(dup[0].State))}
		}
		q, err := s.quotaOf(ctx, tx, m.Org.Path)
		if err != nil {
			return err
		}
		month := mk.Day[:7]
		if err := tx.Model(&models.AttendRequest{}).Where("member_id = ? AND kind = ? AND state IN ?", memberID, models.RequestMakeup,
			[]string{models.RequestPending, models.RequestApproved}).
			Where("? >= ? AND ? <= ?", colFrom, month+"-01", colFrom, month+"-31").Count(&n).Error; err != nil {
			return fmt.Errorf("requests: make-ups of the month: %w", err)
		}
		if int(n) >= q.MakeupPerMonth {
			return &Refusal{Msg: fmt.Sprintf("%d月已申请补卡 %d 次，每月最多 %d 次，不能再申请了。确有需要请联系书记。",
				parseDay(mk.Day).Month(), n, q.MakeupPerMonth)}
		}
		now := s.now()
		r := models.AttendRequest{MemberID: m.ID, OrgID: m.OrgID, Kind: models.RequestMakeup, State: models.RequestPending,
			From: mk.Day, To: mk.Day, CheckKind: mk.Kind, At: mk.At, Reason: mk.Reason, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("requests: create make-up: %w", err)
		}
		out.Req = &Row{AttendRequest: r, MemberName: m.Name, OrgPath: m.Org.Path}
		out.Use = LeaveUse{Quota: q.MakeupPerMonth, Pending: int(n) + 1, Remaining: q.MakeupPerMonth - int(n) - 1}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	out.Told, out.Deciders = s.tellDeciders(ctx, out.Req)
	return out, nil
}

// Cancel withdraws one of the member's own pending requests.
func (s *Service) Cancel(ctx context.Context, memberID, id uint) (*Row, error) {
	var r Row
	err := s.rowQuery(ctx, s.db).Where("attend_requests.id = ? AND attend_requests.member_id = ?", id, memberID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("requests: cancel %d: %w", id, err)
	}
	res := s.db.WithContext(ctx).Model(&models.AttendRequest{}).Where("id = ? AND state = ?", id, models.RequestPending).
		Updates(map[string]any{"state": models.RequestCanceled, "decided_by": fmt.Sprintf("member:%d", memberID), "decided_at": s.now(), "updated_at": s.now()})
	if res.Error != nil {
		return nil, fmt.Errorf("requests: cancel %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, &DecidedError{Req: &r}
	}
	r.State = models.RequestCanceled
	return &r, nil
}

// TellNew tells the secretaries of the member's village about a pending request made by another part
// (an off-site check-in). It returns how many were told.
func (s *Service) TellNew(ctx context.Context, id uint) (int, error) {
	r, err := s.get(ctx, s.db, scope.Everything(), id)
	if err != nil {
		return 0, err
	}
	if r.State != models.RequestPending {
		return 0, nil
	}
	told, _ := s.tellDeciders(ctx, r)
	return told, nil
}

// tellDeciders tells the bound secretaries of the member's village about a new request. It returns
// how many were told and how many could have been.
func (s *Service) tellDeciders(ctx context.Context, r *Row) (told, bound int) {
	var secs []models.Member
	err := s.db.WithContext(ctx).Where("org_id = ? AND role = ? AND active = ? AND oa_open_id IS NOT NULL AND id <> ?",
		r.OrgID, models.RoleSecretary, true, r.MemberID).Find(&secs).Error
	if err != nil {
		s.log.WarnContext(ctx, "requests: secretaries not found", "request", r.ID, "err", err)
		return 0, 0
	}
	if s.tell == nil {
		return 0, len(secs)
	}
	what := compactRange(r.From, r.To)
	if r.Kind != models.RequestLeave {
		what = r.What(s.loc)
	}
	text := fmt.Sprintf("%s %s 申请%s %s", r.Village(), r.MemberName, KindName(r.Kind), what)
	if r.Reason != "" {
		text += "（" + r.Reason + "）"
	}
	note := notify.Notice{Title: "新的" + KindName(r.Kind) + "申请", Text: text + "。回复「审批」处理。",
		Kind: KindName(r.Kind) + "申请（" + r.MemberName + " " + what + "）", Status: "待审批", Remark: "回复「审批」处理"}
	for _, sec := range secs {
		if _, err := s.tell.Tell(ctx, *sec.OAOpenID, note); err != nil {
			s.log.WarnContext(ctx, "requests: secretary not told", "request", r.ID, "member", sec.ID, "err", err)
			continue
		}
		told++
	}
	return told, len(secs)
}

// ---- deciding

// Decider is who decides: a console viewer, or a secretary in the chat.
type Decider struct {
	Viewer *console.Viewer // the console's viewer; for the chat, the secretary's console account if he has one (else nil)
	By     string          // DecidedBy: a console username or "member:ID"
	Name   string          // for the audit summary when there is no viewer
	Self   uint            // the decider's own member id (0: none): nobody decides his own request
}

// Outcome is a decision made.
type Outcome struct {
	Req        *Row
	Told       bool // the member was told
	Recomputed []string
}

// Decide approves or rejects a pending request in the scope. It is idempotent: a request decided
// already gives a *DecidedError and changes nothing. Approving a make-up writes its check-in,
// deciding an off-site record sets its check-in's status; both, the request and the audit entry
// commit together. Then past days are recomputed and the member is told.
func (s *Service) Decide(ctx context.Context, sc scope.Scope, id uint, approve bool, note string, d Decider) (*Outcome, error) {
	note = strings.TrimSpace(note)
	if rs := []rune(note); len(rs) > maxReason {
		note = string(rs[:maxReason])
	}
	r, err := s.get(ctx, s.db, sc, id)
	if err != nil {
		return nil, err
	}
	if d.Self != 0 && r.MemberID == d.Self {
		return nil, &Refusal{Msg: "不能审批自己的申请，由上级审批。"}
	}
	if r.State != models.RequestPending {
		return nil, &DecidedError{Req: r}
	}
	// The transaction starts with the write that claims the request (state pending → decided), so
	// that concurrent deciders queue for the write lock instead of failing on SQLite, and exactly one
	// wins; a refusal below rolls the claim back.
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		state := models.RequestRejected
		if approve {
			state = models.RequestApproved
		}
		res := tx.Model(&models.AttendRequest{}).Where("id = ? AND state = ?", r.ID, models.RequestPending).
			Updates(map[string]any{"state": state, "decided_by": d.By, "decided_at": now, "note": note, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("requests: decide %d: %w", r.ID, res.Error)
		}
		if res.RowsAffected == 0 { // decided meanwhile by someone else
			return errDecidedMeanwhile
		}
		if approve && r.Kind == models.RequestLeave {
			q, err := s.quotaOf(ctx, tx, r.OrgPath)
			if err != nil {
				return err
			}
			for y := parseDay(r.From).Year(); y <= parseDay(r.To).Year(); y++ {
				a, _, err := s.leaveDaysIn(ctx, tx, r.MemberID, y, r.ID)
				if err != nil {
					return err
				}
				// Only approved leave counts here: the other pending requests are not taken yet.
				n := overlap(r.From, r.To, fmt.Sprintf("%04d-01-01", y), fmt.Sprintf("%04d-12-31", y))
				if a+n > q.LeaveDays {
					return &Refusal{Msg: fmt.Sprintf("%s %d年已批准请假 %d 天，再批这 %d 天会超过每年 %d 天的额度，不能批准。",
						r.MemberName, y, a, n, q.LeaveDays)}
				}
			}
		}
		before := r.State
		r.State, r.DecidedBy, r.DecidedAt, r.Note = state, d.By, &now, note
		if err := s.apply(ctx, tx, r, approve); err != nil {
			return err
		}
		if s.audit == nil {
			return nil
		}
		verb := "批准"
		if !approve {
			verb = "驳回"
		}
		who := ""
		if d.Viewer == nil && d.Name != "" {
			who = "（" + d.Name + "，微信）"
		}
		type snap struct {
			State string `json:"state"`
			Note  string `json:"note,omitempty"`
		}
		return s.audit.Record(ctx, tx, d.Viewer, console.Change{Action: console.ActionUpdate, Object: ObjectRequest, ObjectID: r.ID,
			OrgPath: r.OrgPath, Summary: fmt.Sprintf("%s%s：%s %s %s%s", verb, KindName(r.Kind), r.Village(), r.MemberName, r.What(s.loc), who),
			Before: snap{State: before}, After: snap{State: state, Note: note}})
	})
	if errors.Is(err, errDecidedMeanwhile) {
		cur, err := s.get(ctx, s.db, sc, id)
		if err != nil {
			return nil, err
		}
		return nil, &DecidedError{Req: cur}
	}
	if err != nil {
		return nil, err
	}
	out := &Outcome{Req: r}
	out.Recomputed = s.recomputePast(ctx, r)
	out.Told = s.tellResult(ctx, r)
	return out, nil
}

// apply writes what a decision implies besides the request itself.
func (s *Service) apply(ctx context.Context, tx *gorm.DB, r *Row, approve bool) error {
	switch r.Kind {
	case models.RequestMakeup:
		if !approve {
			return nil
		}
		at, err := s.makeupAt(ctx, tx, r)
		if err != nil {
			return err
		}
		id := r.ID
		now := s.now()
		ci := models.CheckIn{MemberID: r.MemberID, OrgID: r.OrgID, Day: r.From, Kind: r.CheckKind, At: at, Status: models.CheckOK,
			Source: models.CheckSourceMakeup, Reason: r.Reason, DedupKey: fmt.Sprintf("makeup:%d", r.ID), RequestID: &id,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedup_key"}}, DoNothing: true}).Create(&ci).Error; err != nil {
			return fmt.Errorf("requests: make-up check-in of %d: %w", r.ID, err)
		}
	case models.RequestOffsite:
		if r.CheckInID == nil {
			return nil
		}
		status := models.CheckRefused
		if approve {
			status = models.CheckOK
		}
		if err := tx.Model(&models.CheckIn{}).Where("id = ?", *r.CheckInID).
			Updates(map[string]any{"status": status, "updated_at": s.now()}).Error; err != nil {
			return fmt.Errorf("requests: off-site check-in of %d: %w", r.ID, err)
		}
	}
	return nil
}

// makeupAt is the time a make-up check-in is recorded at: the time the member gave, else the start
// (签到) or end (签退) of duty by his org's duty rule (the nearest ancestor's; 09:00 / 17:00 as the
// attendance part's default when none is set).
func (s *Service) makeupAt(ctx context.Context, tx *gorm.DB, r *Row) (time.Time, error) {
	if r.At != nil {
		return *r.At, nil
	}
	on, off := "09:00", "17:00"
	var paths []string
	for p := r.OrgPath; p != ""; {
		paths = append(paths, p)
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	var rules []struct {
		Path    string
		OnDuty  string
		OffDuty string
	}
	if err := tx.WithContext(ctx).Table("duty_rules").Select("orgs.path, duty_rules.on_duty, duty_rules.off_duty").
		Joins("JOIN orgs ON orgs.id = duty_rules.org_id").Where("orgs.path IN ?", paths).Find(&rules).Error; err != nil {
		return time.Time{}, fmt.Errorf("requests: duty rule of %s: %w", r.OrgPath, err)
	}
	best := -1
	for _, rl := range rules {
		if len(rl.Path) > best {
			best, on, off = len(rl.Path), rl.OnDuty, rl.OffDuty
		}
	}
	hhmm := on
	if r.CheckKind == models.CheckKindOut {
		hhmm = off
	}
	t, err := time.ParseInLocation(dayLayout+" 15:04", r.From+" "+hhmm, s.loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("requests: duty time %q: %w", hhmm, err)
	}
	return t, nil
}

// recomputePast has the daily status of the request's days before today recomputed.
func (s *Service) recomputePast(ctx context.Context, r *Row) []string {
	if s.recompute == nil {
		return nil
	}
	today := dayString(s.Today())
	to := r.To
	if to == "" {
		to = r.From
	}
	var days []string
	for d := r.From; d <= to && d < today; d = dayString(parseDay(d).AddDate(0, 0, 1)) {
		if err := s.recompute(ctx, []uint{r.MemberID}, d); err != nil {
			s.log.WarnContext(ctx, "requests: daily status not recomputed", "member", r.MemberID, "day", d, "err", err)
			continue
		}
		days = append(days, d)
	}
	return days
}

// tellResult tells the member how his request was decided.
func (s *Service) tellResult(ctx context.Context, r *Row) bool {
	if s.tell == nil {
		return false
	}
	var m models.Member
	if err := s.db.WithContext(ctx).Where("id = ?", r.MemberID).Take(&m).Error; err != nil || m.OAOpenID == nil {
		return false
	}
	kind := KindName(r.Kind)
	what := r.What(s.loc)
	status, verdict := "已批准", "已批准"
	if r.State == models.RequestRejected {
		status, verdict = "未批准", "未获批准"
	}
	if r.Kind == models.RequestOffsite {
		kind = "外勤打卡"
		if r.State == models.RequestApproved {
			status, verdict = "已确认", "已确认"
		} else {
			status, verdict = "未确认", "未获确认"
		}
	}
	text := fmt.Sprintf("你的%s申请（%s）%s。", kind, what, verdict)
	if r.Kind == models.RequestOffsite {
		text = fmt.Sprintf("你的%s（%s）%s。", kind, what, verdict)
	}
	if r.Note != "" {
		if r.State == models.RequestRejected {
			text += "理由：" + r.Note
		} else {
			text += "留言：" + r.Note
		}
	}
	if r.Kind == models.RequestLeave {
		if use, err := s.LeaveUseOf(ctx, r.MemberID, r.OrgPath, parseDay(r.From).Year()); err == nil {
			text += "\n" + useLine(use)
		}
	}
	note := notify.Notice{Title: kind + "审批结果", Text: text, Kind: kind + "申请（" + what + "）", Status: status, Remark: "回复「我的请假」查看"}
	if _, err := s.tell.Tell(ctx, *m.OAOpenID, note); err != nil {
		s.log.WarnContext(ctx, "requests: member not told", "request", r.ID, "member", m.ID, "err", err)
		return false
	}
	return true
}

// useLine is the member's leave this year: 今年已请 5 天，还可请 16 天。
func useLine(u LeaveUse) string {
	s := fmt.Sprintf("今年已请 %d 天", u.Used())
	if u.Pending > 0 {
		s += fmt.Sprintf("（其中 %d 天待审批）", u.Pending)
	}
	return s + fmt.Sprintf("，还可请 %d 天。", u.Remaining)
}
