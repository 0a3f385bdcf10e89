// Package survey is the electronic questionnaire (电子问卷): administrators build a survey in the console
// for an org subtree and some roles (single and multiple choice, text, rating, number; required flags;
// simple skip logic; anonymous mode; a deadline) and send it as a broadcast; members answer in the chat
// (问卷, one question per message), on a mobile H5 form reached by a signed link, or in the
// mini-program; reminders go to those who have not finished (and, from the second round, the list of
// them to their village's 书记); results show counts, charts, text answers, response rates per unit
// and a cross-tab by org, and export to Excel, each viewer seeing his own part of the tree.
//
// Rules chosen here:
//   - one member, one response (SurveyResponse unique per survey × member; SurveyFinish per survey ×
//     member); answers are saved as they are given (a draft) and become final when the member submits
//     (the chat submits after the last question); drafts of surveys past their deadline are deleted
//     by the daily job;
//   - a survey's questions cannot change once anyone has answered (or finished);
//   - anonymous surveys: a finished response is copied to a row with a random id and no member, no
//     time, no serial answer ids, and the draft (which named him) is deleted in the same transaction;
//     pages, API and export show no names next to answers, only who has and has not finished;
//   - results come from SurveyTally (counts per question, org and value, kept in the finish's
//     transaction) and SurveyFinish (who finished, per org), so they do not scan the answers.
package survey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/notify"
	"github.com/yanzhen/yanzhen/scope"
)

// Limits of a survey.
const (
	maxTitle    = 100
	maxIntro    = 1000
	MaxAhead    = 366 * 24 * time.Hour // a deadline at most a year ahead
	MaxRemind   = 10                   // reminder rounds
	MaxInterval = 30                   // days between scheduled reminders
)

// Errors of the survey service, checked with errors.Is.
var (
	ErrNotFound   = scope.ErrNotFound
	ErrLocked     = errors.New("survey: answers exist, the questions cannot change")
	ErrClosed     = errors.New("survey: not open (a draft, closed or past its deadline)")
	ErrDone       = errors.New("survey: already finished")
	ErrNotInvited = errors.New("survey: the member is not in the survey's audience")
	ErrState      = errors.New("survey: not possible in this state")
)

// Teller tells a member something outside a conversation (notify.Notifier).
type Teller interface {
	Tell(ctx context.Context, openID string, note notify.Notice) (notify.Result, error)
}

// Options are what the survey part needs.
type Options struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Now      func() time.Time
	Location *time.Location
	Console  *console.Service // nil: no console pages
	Teller   Teller           // reminders; nil: reminders are recorded as failed ("无法发送")
	// LinkKey signs the H5 form's links (HMAC-SHA256); BaseURL is put before their path ("" = a
	// relative link, /s/TOKEN).
	LinkKey []byte
	BaseURL string
	// RemindWorkers bounds the reminders in flight; 0 = 8.
	RemindWorkers int
	// The official account's web OAuth (snsapi_base), for form links without a token (/s/survey/ID)
	// or whose token expired: its AppID, the authorize page (AuthorizeURL; "" = WeChat's) and the
	// code exchange (WebAuth; nil: no OAuth, those links tell members to reply 问卷 in the chat).
	OAuthAppID   string
	AuthorizeURL string
	WebAuth      WebAuth
}

// Service is the survey capability.
type Service struct {
	db      *gorm.DB
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	con     *console.Service
	teller  Teller
	links   *linktoken.Signer
	baseURL string
	workers int
	oauth   oauthConfig
	bg      sync.WaitGroup // reminder rounds started from the console
	helpFor func(role string) []string
}

// New makes the service; with a console it also puts 问卷 in the console's menu.
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
	if o.RemindWorkers <= 0 {
		o.RemindWorkers = 8
	}
	s := &Service{db: o.DB, log: o.Log, now: o.Now, loc: o.Location, con: o.Console, teller: o.Teller, links: linktoken.New(o.LinkKey, o.Now),
		baseURL: strings.TrimRight(o.BaseURL, "/"), workers: o.RemindWorkers,
		oauth: oauthConfig{appID: o.OAuthAppID, authorize: o.AuthorizeURL, exchange: o.WebAuth}}
	if s.oauth.authorize == "" {
		s.oauth.authorize = DefaultAuthorizeURL
	}
	if s.con != nil {
		s.con.AddNav(console.NavItem{Key: "surveys", Label: "问卷", Href: "/console/surveys", Order: 55})
	}
	return s
}

// Wait waits for the reminder rounds started in the background (tests, shutdown).
func (s *Service) Wait() { s.bg.Wait() }

// Survey is a survey with its questions decoded.
type Survey struct {
	models.Survey
	Qs []Question
}

// Question returns the question at position seq (nil when there is none).
func (sv *Survey) Question(seq int) *Question {
	if seq >= 1 && seq <= len(sv.Qs) {
		return &sv.Qs[seq-1]
	}
	return nil
}

// OpenAt reports whether the survey takes answers at t.
func (sv *Survey) OpenAt(t time.Time) bool {
	return sv.Status == models.SurveyOpen && t.Before(sv.Deadline)
}

// StatusAt is the survey's state at t: draft, open or closed (past its deadline counts as closed).
func (sv *Survey) StatusAt(t time.Time) string {
	if sv.Status == models.SurveyOpen && !t.Before(sv.Deadline) {
		return models.SurveyClosed
	}
	return sv.Status
}

// StatusNames are the survey states as people read them.
var StatusNames = map[string]string{models.SurveyDraft: "未发布", models.SurveyOpen: "收集中", models.SurveyClosed: "已结束"}

// RoleList is the survey's roles ("" = everyone).
func (sv *Survey) RoleList() []string {
	if sv.Roles == "" {
		return nil
	}
	return strings.Split(sv.Roles, ",")
}

// Audience is who the survey is for, in a few words ("花溪镇 书记、党建专干").
func (sv *Survey) Audience() string {
	who := "全体"
	if sv.Roles != "" {
		who = strings.ReplaceAll(sv.Roles, ",", "、")
	}
	return sv.OrgPath[strings.LastIndexByte(sv.OrgPath, '/')+1:] + " " + who
}

// invites reports whether a member (role, org path) is in the survey's audience.
func (sv *Survey) invites(role, orgPath string) bool {
	if !scope.Under(0, sv.OrgPath).Contains(orgPath) {
		return false
	}
	if sv.Roles == "" {
		return true
	}
	for _, r := range strings.Split(sv.Roles, ",") {
		if r == role {
			return true
		}
	}
	return false
}

// Input is a survey as its author describes it.
type Input struct {
	Title       string
	Intro       string
	OrgID       uint
	Roles       []string
	Anonymous   bool
	Deadline    time.Time
	RemindEvery int
	RemindMax   int
	Questions   []Question
}

// check validates the input for viewer v and returns the audience's org.
func (s *Service) check(ctx context.Context, v *console.Viewer, in *Input) (*models.Org, []string, error) {
	if !v.IsAdmin() {
		return nil, nil, console.ErrNotAllowed
	}
	in.Title, in.Intro = strings.TrimSpace(in.Title), strings.TrimSpace(in.Intro)
	switch {
	case in.Title == "":
		return nil, nil, console.Invalid("title", "请填写问卷标题")
	case utf8.RuneCountInString(in.Title) > maxTitle:
		return nil, nil, console.Invalid("title", "标题最多 %d 个字", maxTitle)
	case utf8.RuneCountInString(in.Intro) > maxIntro:
		return nil, nil, console.Invalid("intro", "说明最多 %d 个字", maxIntro)
	case in.Deadline.IsZero():
		return nil, nil, console.Invalid("deadline", "请填写截止时间")
	case !in.Deadline.After(s.now()):
		return nil, nil, console.Invalid("deadline", "截止时间已经过去了")
	case in.Deadline.After(s.now().Add(MaxAhead)):
		return nil, nil, console.Invalid("deadline", "截止时间最多定在一年以内")
	case in.RemindEvery < 0 || in.RemindEvery > MaxInterval:
		return nil, nil, console.Invalid("remind_every", "提醒间隔应为 0-%d 天（0 表示只手动提醒）", MaxInterval)
	case in.RemindMax < 0 || in.RemindMax > MaxRemind:
		return nil, nil, console.Invalid("remind_max", "提醒次数应为 0-%d 次", MaxRemind)
	}
	seen := map[string]bool{}
	var roles []string
	for _, r := range in.Roles {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		if !models.ValidRole(r) {
			return nil, nil, console.Invalid("roles", "没有「%s」这个角色（可选：%s）", r, strings.Join(models.Roles, "、"))
		}
		seen[r] = true
		roles = append(roles, r)
	}
	sort.Strings(roles)
	qs, err := Check(in.Questions)
	if err != nil {
		return nil, nil, err
	}
	in.Questions = qs
	if in.OrgID == 0 {
		return nil, nil, console.Invalid("org_id", "请选择发给哪个组织")
	}
	var org models.Org
	err = s.db.WithContext(ctx).Take(&org, in.OrgID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, console.Invalid("org_id", "没有找到所选的组织")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("survey: org %d: %w", in.OrgID, err)
	}
	if err := v.Scope.Check(org.Path); err != nil {
		return nil, nil, err
	}
	return &org, roles, nil
}

// auditView is what the audit log keeps of a survey.
func auditView(sv *models.Survey, qs []Question) map[string]any {
	return map[string]any{"id": sv.ID, "title": sv.Title, "org": sv.OrgPath, "roles": sv.Roles, "anonymous": sv.Anonymous,
		"status": sv.Status, "deadline": sv.Deadline, "remind_every": sv.RemindEvery, "remind_max": sv.RemindMax,
		"questions": FormatQuestions(qs)}
}

func (s *Service) record(ctx context.Context, tx *gorm.DB, v *console.Viewer, ch console.Change) error {
	if s.con == nil {
		return nil
	}
	return s.con.Record(ctx, tx, v, ch)
}

// Create records a new survey (a draft) for viewer v, an administrator of the audience's org.
func (s *Service) Create(ctx context.Context, v *console.Viewer, in Input) (*Survey, error) {
	org, roles, err := s.check(ctx, v, &in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	id := v.AccountID
	sv := models.Survey{Title: in.Title, Intro: in.Intro, OrgID: org.ID, OrgPath: org.Path, Roles: strings.Join(roles, ","),
		Anonymous: in.Anonymous, Status: models.SurveyDraft, Deadline: in.Deadline.UTC(), RemindEvery: in.RemindEvery,
		RemindMax: in.RemindMax, CreatedBy: v.Username, CreatedByID: &id, CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Org", "Questions").Create(&sv).Error; err != nil {
			return fmt.Errorf("survey: create: %w", err)
		}
		if err := createQuestions(tx, sv.ID, in.Questions); err != nil {
			return err
		}
		return s.record(ctx, tx, v, console.Change{Action: console.ActionCreate, Object: "survey", ObjectID: sv.ID,
			OrgPath: sv.OrgPath, Summary: fmt.Sprintf("新建问卷《%s》（%d 题）", sv.Title, len(in.Questions)), After: auditView(&sv, in.Questions)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, sv.ID)
}

func createQuestions(tx *gorm.DB, surveyID uint, qs []Question) error {
	ms := make([]models.SurveyQuestion, len(qs))
	for i := range qs {
		ms[i] = qs[i].model(surveyID)
	}
	if err := tx.Create(&ms).Error; err != nil {
		return fmt.Errorf("survey: questions of %d: %w", surveyID, err)
	}
	return nil
}

// HasAnswers reports whether anyone has answered (or finished) the survey: its questions are locked.
func (s *Service) HasAnswers(ctx context.Context, id uint) (bool, error) {
	var ids []uint
	db := s.db.WithContext(ctx)
	if err := db.Model(&models.SurveyAnswer{}).Where("survey_id = ?", id).Limit(1).Pluck("survey_id", &ids).Error; err != nil {
		return false, fmt.Errorf("survey: answers of %d: %w", id, err)
	}
	if len(ids) > 0 {
		return true, nil
	}
	if err := db.Model(&models.SurveyFinish{}).Where("survey_id = ?", id).Limit(1).Pluck("survey_id", &ids).Error; err != nil {
		return false, fmt.Errorf("survey: finishes of %d: %w", id, err)
	}
	return len(ids) > 0, nil
}

// Update changes a survey: everything while nobody has answered; once answers exist only the deadline
// (later), the intro and the reminder settings (ErrLocked if the questions, audience or mode changed).
func (s *Service) Update(ctx context.Context, v *console.Viewer, id uint, in Input) (*Survey, error) {
	old, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !Manages(v, &old.Survey) {
		return nil, console.ErrNotAllowed
	}
	if old.StatusAt(s.now()) == models.SurveyClosed {
		return nil, console.Invalid("status", "问卷已经结束，不能再修改")
	}
	org, roles, err := s.check(ctx, v, &in)
	if err != nil {
		return nil, err
	}
	locked, err := s.HasAnswers(ctx, id)
	if err != nil {
		return nil, err
	}
	sameDefinition := FormatQuestions(in.Questions) == FormatQuestions(old.Qs) && org.ID == old.OrgID &&
		strings.Join(roles, ",") == old.Roles && in.Anonymous == old.Anonymous
	if locked && !sameDefinition {
		return nil, ErrLocked
	}
	now := s.now()
	before := auditView(&old.Survey, old.Qs)
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{"title": in.Title, "intro": in.Intro, "deadline": in.Deadline.UTC(), "remind_every": in.RemindEvery,
			"remind_max": in.RemindMax, "org_id": org.ID, "org_path": org.Path, "roles": strings.Join(roles, ","),
			"anonymous": in.Anonymous, "updated_at": now}
		if err := tx.Model(&models.Survey{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return fmt.Errorf("survey: update %d: %w", id, err)
		}
		if !sameDefinition {
			// Nobody has answered: drafts that only hold a position go with the old questions.
			if err := tx.Where("survey_id = ?", id).Delete(&models.SurveyResponse{}).Error; err != nil {
				return fmt.Errorf("survey: drafts of %d: %w", id, err)
			}
			if err := tx.Where("survey_id = ?", id).Delete(&models.SurveyQuestion{}).Error; err != nil {
				return fmt.Errorf("survey: questions of %d: %w", id, err)
			}
			if err := createQuestions(tx, id, in.Questions); err != nil {
				return err
			}
		}
		after := old.Survey
		after.Title, after.Intro, after.Deadline, after.OrgPath, after.Roles, after.Anonymous = in.Title, in.Intro, in.Deadline, org.Path, strings.Join(roles, ","), in.Anonymous
		after.RemindEvery, after.RemindMax = in.RemindEvery, in.RemindMax
		return s.record(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "survey", ObjectID: id,
			OrgPath: org.Path, Summary: fmt.Sprintf("修改问卷《%s》", in.Title), Before: before, After: auditView(&after, in.Questions)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Get loads a survey with its questions. ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, id uint) (*Survey, error) {
	var sv models.Survey
	err := s.db.WithContext(ctx).Preload("Questions", func(db *gorm.DB) *gorm.DB { return db.Order("seq") }).Take(&sv, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("survey: load %d: %w", id, err)
	}
	out := &Survey{Survey: sv}
	for i := range sv.Questions {
		out.Qs = append(out.Qs, questionOf(&sv.Questions[i]))
	}
	out.Survey.Questions = nil
	return out, nil
}

// Visible reports whether a viewer with scope sc may see survey sv: its audience reaches into his part
// of the tree (it is for an org in his scope, or his org is in its subtree). What he sees of its
// results is then limited to his people.
func Visible(sc scope.Scope, sv *models.Survey) bool {
	return sc.All || sc.Contains(sv.OrgPath) || scope.Under(0, sv.OrgPath).Contains(sc.Path)
}

// Manages reports whether the viewer may change, send, close and remind sv: an administrator whose scope
// holds its whole audience.
func Manages(v *console.Viewer, sv *models.Survey) bool {
	return v.IsAdmin() && v.Scope.Contains(sv.OrgPath)
}

// ForViewer loads survey id as v may see it: ErrNotFound when it does not reach his scope.
func (s *Service) ForViewer(ctx context.Context, v *console.Viewer, id uint) (*Survey, error) {
	sv, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Visible(v.Scope, &sv.Survey) {
		return nil, ErrNotFound
	}
	return sv, nil
}

// ancestors are a path and the paths above it ("a/b/c" → a, a/b, a/b/c).
func ancestors(path string) []string {
	parts := strings.Split(path, "/")
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(parts[:i+1], "/")
	}
	return out
}

// visibleIn limits a query on surveys to those reaching the scope.
func visibleIn(sc scope.Scope) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if sc.All {
			return db
		}
		if sc.Path == "" {
			return db.Where("1 = 0")
		}
		return db.Where("(surveys.org_path IN ? OR surveys.org_path LIKE ? ESCAPE '!')", ancestors(sc.Path), scope.SubtreeLike(sc.Path))
	}
}

// List is the surveys reaching the scope, newest first, and how many there are.
func (s *Service) List(ctx context.Context, sc scope.Scope, offset, limit int) ([]models.Survey, int64, error) {
	db := s.db.WithContext(ctx).Model(&models.Survey{}).Scopes(visibleIn(sc))
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("survey: count: %w", err)
	}
	var out []models.Survey
	if err := db.Order("id DESC").Offset(offset).Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("survey: list: %w", err)
	}
	return out, total, nil
}

// Close ends a survey before its deadline: no more answers; drafts are dropped by the daily job.
func (s *Service) Close(ctx context.Context, v *console.Viewer, id uint) error {
	sv, err := s.ForViewer(ctx, v, id)
	if err != nil {
		return err
	}
	if !Manages(v, &sv.Survey) {
		return console.ErrNotAllowed
	}
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.Survey{}).Where("id = ? AND status IN ?", id, []string{models.SurveyDraft, models.SurveyOpen}).
			Updates(map[string]any{"status": models.SurveyClosed, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("survey: close %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrState
		}
		return s.record(ctx, tx, v, console.Change{Action: console.ActionUpdate, Object: "survey", ObjectID: id, OrgPath: sv.OrgPath,
			Summary: fmt.Sprintf("结束问卷《%s》", sv.Title), Before: map[string]any{"status": sv.Status}, After: map[string]any{"status": models.SurveyClosed}})
	})
}

// deadlineText is a deadline as members read it: "11月27日 18:00".
func (s *Service) deadlineText(t time.Time) string {
	return t.In(s.loc).Format("1月2日 15:04")
}
