package survey

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Response-rate status thresholds (percent): green at or above RateGreen, yellow at or above RateYellow,
// red below.
const (
	RateGreen  = 80
	RateYellow = 50
)

// Rate statuses.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

// RateNames are the statuses as people read them.
var RateNames = map[string]string{Green: "良好", Yellow: "一般", Red: "偏低"}

// rateStatus is the colour of a response rate.
func rateStatus(finished, audience int64) string {
	switch {
	case audience == 0 || finished*100 >= RateGreen*audience:
		return Green
	case finished*100 >= RateYellow*audience:
		return Yellow
	}
	return Red
}

// ResultScope is the part of a survey's audience a viewer with scope sc sees: the survey's subtree when
// his scope holds it, his own subtree when it is inside the survey's; ok false when they do not meet.
func ResultScope(sc scope.Scope, sv *models.Survey) (scope.Scope, bool) {
	switch {
	case sc.All || sc.Contains(sv.OrgPath):
		return scope.Under(sv.OrgID, sv.OrgPath), true
	case scope.Under(0, sv.OrgPath).Contains(sc.Path):
		return sc, true
	}
	return scope.Scope{}, false
}

// Unit is one org's (a town's, a village's) response rate.
type Unit struct {
	OrgID    uint
	Path     string
	Audience int64
	Finished int64
	Counts   map[int]int64 // the cross-tab question's answers by option (nil without one)
	Answered int64         // responses that answered the cross-tab question
	// Received: the survey's notice reached them (WeChat took it); Read: they opened the survey (the
	// form, the chat, the mini-program) or answered it. From the tallies of the survey's broadcasts.
	Received int64
	Read     int64
}

// ReadRate is the part of those the notice reached who opened it, in percent (0 when none was
// reached; at most 100: a member may open the survey without the notice).
func (u *Unit) ReadRate() float64 {
	if u.Received == 0 {
		return 0
	}
	return min(float64(u.Read)*100/float64(u.Received), 100)
}

// Rate is the response rate in percent (0 with no audience).
func (u *Unit) Rate() float64 {
	if u.Audience == 0 {
		return 0
	}
	return float64(u.Finished) * 100 / float64(u.Audience)
}

// Status is the colour of the rate.
func (u *Unit) Status() string { return rateStatus(u.Finished, u.Audience) }

// Name is the unit's own name.
func (u *Unit) Name() string { return u.Path[strings.LastIndexByte(u.Path, '/')+1:] }

// Option is one option's (or rating's) count.
type Option struct {
	Value int
	Label string
	N     int64
}

// QuestionResult is one question's results in the scope.
type QuestionResult struct {
	Question
	Answered     int64
	Options      []Option // choice and rating questions
	Mean         *float64 // rating and number questions
	Texts        []TextAnswer
	TextsTotal   int64
	ShownBecause string // the skip condition, as people read it ("第1题选「不满意」时")
}

// TextAnswer is one text answer; Name is empty for anonymous surveys.
type TextAnswer struct {
	Name    string
	OrgPath string
	Text    string
}

// Results are a survey's figures as one viewer sees them.
type Results struct {
	Survey    *Survey
	Scope     scope.Scope // the part of the audience shown
	Audience  int64
	Finished  int64
	Received  int64 // the notice reached them (see Unit)
	Read      int64
	Units     []Unit // the orgs right under the scope's org (itself when it has none)
	Questions []QuestionResult
	CrossTab  *Question // the question the units' Counts are about (nil: none)
}

// Rate is the overall response rate in percent.
func (r *Results) Rate() float64 {
	u := Unit{Audience: r.Audience, Finished: r.Finished}
	return u.Rate()
}

// Status is the overall rate's colour.
func (r *Results) Status() string { return rateStatus(r.Finished, r.Audience) }

// ReadRate is the overall read rate in percent (see Unit.ReadRate).
func (r *Results) ReadRate() float64 {
	u := Unit{Received: r.Received, Read: r.Read}
	return u.ReadRate()
}

// textsShown is how many text answers per question the results list (the export has them all).
const textsShown = 20

// audienceIn limits a members query to the survey's audience in scope sc.
func audienceIn(sv *models.Survey, sc scope.Scope) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = db.Scopes(sc.ByOrg("members.org_id")).Where("members.active = ?", true)
		if sv.Roles != "" {
			db = db.Where("members.role IN ?", strings.Split(sv.Roles, ","))
		}
		return db
	}
}

// Results computes survey sv's figures in scope sc (see ResultScope); crossTab is the position of a
// choice or rating question whose answers are counted per unit (0: none).
func (s *Service) Results(ctx context.Context, sv *Survey, sc scope.Scope, crossTab int) (*Results, error) {
	db := s.db.WithContext(ctx)
	r := &Results{Survey: sv, Scope: sc}
	if q := sv.Question(crossTab); q != nil && (q.IsChoice() || q.Kind == models.SurveyRating) {
		r.CrossTab = q
	}

	// Finishes, tallies and responses are filtered by org even when the scope holds the whole survey:
	// they lie in its subtree when they are made, and a filter keeps it so whatever happens to the data.
	inScope := func(col string) func(*gorm.DB) *gorm.DB { return sc.ByOrg(col) }

	// The units: the orgs one level below the scope's org, and which unit each org of the scope is in.
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(sc.Orgs).Select("id, path").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("survey: orgs: %w", err)
	}
	root := sc.Path
	if sc.All {
		root = sv.OrgPath
	}
	depth := strings.Count(root, "/") + 1
	units := map[string]*Unit{}
	unitOf := make(map[uint]*Unit, len(orgs))
	for _, o := range orgs {
		parts := strings.Split(o.Path, "/")
		key := o.Path
		if len(parts) > depth {
			key = strings.Join(parts[:depth+1], "/")
		}
		u := units[key]
		if u == nil {
			u = &Unit{Path: key}
			units[key] = u
		}
		if key == o.Path {
			u.OrgID = o.ID
		}
		unitOf[o.ID] = u
	}

	var aud []struct {
		OrgID uint
		N     int64
	}
	if err := db.Table("members").Scopes(audienceIn(&sv.Survey, sc)).Select("members.org_id, COUNT(*) AS n").Group("members.org_id").Scan(&aud).Error; err != nil {
		return nil, fmt.Errorf("survey: audience: %w", err)
	}
	for _, a := range aud {
		r.Audience += a.N
		if u := unitOf[a.OrgID]; u != nil {
			u.Audience += a.N
		}
	}
	var fin []struct {
		OrgID uint
		N     int64
	}
	if err := db.Model(&models.SurveyFinish{}).Scopes(inScope("survey_finishes.org_id")).Where("survey_id = ?", sv.ID).
		Select("org_id, COUNT(*) AS n").Group("org_id").Scan(&fin).Error; err != nil {
		return nil, fmt.Errorf("survey: finished: %w", err)
	}
	for _, f := range fin {
		r.Finished += f.N
		if u := unitOf[f.OrgID]; u != nil {
			u.Finished += f.N
		}
	}

	// Received and read, from the tallies of the broadcasts that carried the survey (a few rows per org).
	var reach []struct {
		OrgID  uint
		Status string
		N      int64
	}
	carried := db.Model(&models.Broadcast{}).Select("id").Where("kind = ? AND payload = ?", models.BroadcastSurvey, payloadOf(sv.ID))
	if err := db.Model(&models.BroadcastTally{}).Scopes(inScope("broadcast_tallies.org_id")).
		Where("broadcast_id IN (?) AND status IN ?", carried, []string{models.DeliverySent, broadcast.TallyRead}).
		Select("org_id, status, SUM(n) AS n").Group("org_id, status").Scan(&reach).Error; err != nil {
		return nil, fmt.Errorf("survey: reach: %w", err)
	}
	for _, x := range reach {
		f, uf := &r.Received, func(u *Unit) *int64 { return &u.Received }
		if x.Status == broadcast.TallyRead {
			f, uf = &r.Read, func(u *Unit) *int64 { return &u.Read }
		}
		*f += x.N
		if u := unitOf[x.OrgID]; u != nil {
			*uf(u) += x.N
		}
	}

	// Choice and rating counts from the tallies; per unit for the cross-tab question.
	var tallies []struct {
		QuestionID uint
		OrgID      uint
		Value      int
		N          int64
		Sum        float64
	}
	if err := db.Model(&models.SurveyTally{}).Scopes(inScope("survey_tallies.org_id")).Where("survey_id = ?", sv.ID).
		Select("question_id, org_id, value, SUM(n) AS n, SUM(sum) AS sum").Group("question_id, org_id, value").Scan(&tallies).Error; err != nil {
		return nil, fmt.Errorf("survey: tallies: %w", err)
	}
	counts := map[uint]map[int]int64{}
	sums := map[uint]float64{}
	for _, t := range tallies {
		if t.Value == 0 {
			sums[t.QuestionID] += t.Sum
		}
		if counts[t.QuestionID] == nil {
			counts[t.QuestionID] = map[int]int64{}
		}
		counts[t.QuestionID][t.Value] += t.N
		if r.CrossTab != nil && t.QuestionID == r.CrossTab.ID {
			if u := unitOf[t.OrgID]; u != nil {
				if u.Counts == nil {
					u.Counts = map[int]int64{}
				}
				if t.Value == 0 {
					u.Answered += t.N
				} else {
					u.Counts[t.Value] += t.N
				}
			}
		}
	}
	for _, u := range units {
		if u.Audience > 0 || u.Finished > 0 {
			r.Units = append(r.Units, *u)
		}
	}
	sort.Slice(r.Units, func(i, j int) bool { return r.Units[i].Path < r.Units[j].Path })

	var numIDs, textIDs []uint
	for _, q := range sv.Qs {
		qr := QuestionResult{Question: q}
		c := counts[q.ID]
		qr.Answered = c[0]
		switch q.Kind {
		case models.SurveySingle, models.SurveyMulti:
			for i, o := range q.Options {
				qr.Options = append(qr.Options, Option{Value: i + 1, Label: o, N: c[i+1]})
			}
		case models.SurveyRating:
			var sum int64
			for v := 1; v <= q.Scale; v++ {
				qr.Options = append(qr.Options, Option{Value: v, Label: fmt.Sprintf("%d分", v), N: c[v]})
				sum += int64(v) * c[v]
			}
			if qr.Answered > 0 {
				m := float64(sum) / float64(qr.Answered)
				qr.Mean = &m
			}
		case models.SurveyNumber:
			numIDs = append(numIDs, q.ID)
		case models.SurveyText:
			textIDs = append(textIDs, q.ID)
		}
		if q.ShowIfSeq > 0 {
			if cq := sv.Question(q.ShowIfSeq); cq != nil && q.ShowIfOption <= len(cq.Options) {
				qr.ShownBecause = fmt.Sprintf("第%d题选「%s」时回答", cq.Seq, cq.Options[q.ShowIfOption-1])
			}
		}
		r.Questions = append(r.Questions, qr)
	}
	byID := func(id uint) *QuestionResult {
		for i := range r.Questions {
			if r.Questions[i].ID == id {
				return &r.Questions[i]
			}
		}
		return nil
	}
	for _, id := range numIDs {
		if qr := byID(id); qr != nil && qr.Answered > 0 {
			m := sums[id] / float64(qr.Answered)
			qr.Mean = &m
		}
	}
	for _, id := range textIDs {
		qr := byID(id)
		qr.TextsTotal = qr.Answered
		// The joins in order (a scope's joins would come after these and SQLite wants them before).
		sel := "survey_answers.text, o.path AS org_path"
		q := db.Model(&models.SurveyAnswer{}).Joins("JOIN survey_responses r ON r.id = survey_answers.response_id").
			Joins("JOIN orgs o ON o.id = r.org_id").Where("r.done = ?", true).Scopes(inScope("r.org_id")).
			Where("survey_answers.question_id = ?", id)
		if !sv.Anonymous {
			sel += ", m.name"
			q = q.Joins("LEFT JOIN members m ON m.id = r.member_id")
		}
		if err := q.Select(sel).Order("survey_answers.response_id DESC").Limit(textsShown).Scan(&qr.Texts).Error; err != nil {
			return nil, fmt.Errorf("survey: texts: %w", err)
		}
		if sv.Anonymous {
			for i := range qr.Texts {
				qr.Texts[i].Name = ""
			}
		}
	}
	return r, nil
}

// Pending is a member of the audience who has not finished.
type Pending struct {
	ID      uint
	Name    string
	Role    string
	OrgPath string
	OpenID  *string `gorm:"column:oa_open_id"`
}

// Pending lists the audience in scope sc that has not finished survey sv, by org and name (at most
// limit; limit <= 0: all), and how many there are.
func (s *Service) Pending(ctx context.Context, sv *models.Survey, sc scope.Scope, limit int) ([]Pending, int64, error) {
	db := s.db.WithContext(ctx)
	q := db.Table("members").Scopes(audienceIn(sv, sc)).
		Where("NOT EXISTS (SELECT 1 FROM survey_finishes f WHERE f.survey_id = ? AND f.member_id = members.id)", sv.ID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("survey: count pending: %w", err)
	}
	var out []Pending
	q = db.Table("members").Scopes(audienceIn(sv, sc)).
		Where("NOT EXISTS (SELECT 1 FROM survey_finishes f WHERE f.survey_id = ? AND f.member_id = members.id)", sv.ID).
		Joins("JOIN orgs o ON o.id = members.org_id").
		Select("members.id, members.name, members.role, o.path AS org_path, members.oa_open_id").Order("o.path, members.id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("survey: pending: %w", err)
	}
	return out, total, nil
}
