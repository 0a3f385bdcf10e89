package study

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// rulesPage is GET and POST /console/study/rules: an org's rule, where it comes from, and the form.
type rulesPage struct {
	*RuleSetting
	Form  ruleForm
	Orgs  []OrgRef
	Tags  []bank.TagCount
	Admin bool
	console.FormErr
}

// FromName is where the rule that applies comes from, as people read it.
func (p rulesPage) FromName() string {
	switch {
	case p.Own:
		return "本级规则"
	case p.From == "":
		return "系统默认规则"
	}
	return "继承自 " + p.From
}

// ruleForm is the rule editor's fields as typed (strings, so that a wrong value is shown back).
type ruleForm struct {
	QuestionsPerTask, Tags, ReviewPerTask, PublishAt, RemindAt       string
	PointsPerRight, DailyPointsCap, StreakBonus, StreakBonusMax      string
	MinutesPerTask                                                   string
	PublicRanking                                                    bool
	CompletionGreen, CompletionYellow, AccuracyGreen, AccuracyYellow string
}

func formOf(r *RuleSetting) ruleForm {
	i := strconv.Itoa
	t := r.Thresholds
	return ruleForm{
		QuestionsPerTask: i(r.Rule.QuestionsPerTask), Tags: strings.ReplaceAll(r.Rule.Tags, ",", "，"),
		ReviewPerTask: i(r.Rule.ReviewPerTask), PublishAt: r.Rule.PublishAt, RemindAt: r.Rule.RemindAt,
		PointsPerRight: i(r.Rule.PointsPerRight), DailyPointsCap: i(r.Rule.DailyPointsCap), StreakBonus: i(r.Rule.StreakBonus),
		StreakBonusMax: i(r.Rule.StreakBonusMax), MinutesPerTask: i(r.Rule.MinutesPerTask), PublicRanking: r.Rule.PublicRanking,
		CompletionGreen: i(t.CompletionGreen), CompletionYellow: i(t.CompletionYellow),
		AccuracyGreen: i(t.AccuracyGreen), AccuracyYellow: i(t.AccuracyYellow),
	}
}

func formFromPost(c *gin.Context) ruleForm {
	f := func(name string) string { return strings.TrimSpace(c.PostForm(name)) }
	return ruleForm{
		QuestionsPerTask: f("questions_per_task"), Tags: f("tags"), ReviewPerTask: f("review_per_task"),
		PublishAt: f("publish_at"), RemindAt: f("remind_at"), PointsPerRight: f("points_per_right"),
		DailyPointsCap: f("daily_points_cap"), StreakBonus: f("streak_bonus"), StreakBonusMax: f("streak_bonus_max"),
		MinutesPerTask: f("minutes_per_task"), PublicRanking: c.PostForm("public_ranking") != "",
		CompletionGreen: f("completion_green"), CompletionYellow: f("completion_yellow"),
		AccuracyGreen: f("accuracy_green"), AccuracyYellow: f("accuracy_yellow"),
	}
}

// change reads the form into a rule change (thresholds only for a county).
func (f ruleForm) change(county bool) (RuleChange, error) {
	var err error
	num := func(field, label, s string) int {
		if err != nil {
			return 0
		}
		n, e := strconv.Atoi(s)
		if e != nil {
			err = console.Invalid(field, "「%s」应为整数", label)
		}
		return n
	}
	ch := RuleChange{Rule: models.StudyRule{
		QuestionsPerTask: num("questions_per_task", "每日题数", f.QuestionsPerTask),
		Tags:             f.Tags,
		ReviewPerTask:    num("review_per_task", "其中错题复习", f.ReviewPerTask),
		PublishAt:        f.PublishAt,
		RemindAt:         f.RemindAt,
		PointsPerRight:   num("points_per_right", "每题积分", f.PointsPerRight),
		DailyPointsCap:   num("daily_points_cap", "每日积分上限", f.DailyPointsCap),
		StreakBonus:      num("streak_bonus", "连续学习奖励", f.StreakBonus),
		StreakBonusMax:   num("streak_bonus_max", "连续学习奖励上限", f.StreakBonusMax),
		MinutesPerTask:   num("minutes_per_task", "每次学时", f.MinutesPerTask),
		PublicRanking:    f.PublicRanking,
	}}
	if county {
		ch.Thresholds = &Thresholds{
			CompletionGreen:  num("completion_green", "完成率良好线", f.CompletionGreen),
			CompletionYellow: num("completion_yellow", "完成率一般线", f.CompletionYellow),
			AccuracyGreen:    num("accuracy_green", "正确率良好线", f.AccuracyGreen),
			AccuracyYellow:   num("accuracy_yellow", "正确率一般线", f.AccuracyYellow),
		}
	}
	return ch, err
}

// ruleReasons turn ValidateRule's reasons into the form's field and Chinese.
var ruleReasons = []struct{ prefix, field, message string }{
	{"questions per task must be ", "questions_per_task", "每日题数应为 "},
	{"review items must be ", "review_per_task", "错题复习题数应为 "},
	{"times must be HH:MM", "publish_at", "时间应为 时:分，如 07:00"},
	{"points and minutes must not be negative", "points_per_right", "积分和学时不能是负数"},
	{"thresholds must be 0–100, yellow at most green", "completion_green", "状态线应在 0–100 之间，一般线不高于良好线"},
}

// inputError is err (an ErrBadRule) as the form shows it.
func inputError(err error) error {
	if !errors.Is(err, ErrBadRule) {
		return err
	}
	reason := err.Error()
	if i := strings.LastIndex(reason, ErrBadRule.Error()+": "); i >= 0 {
		reason = reason[i+len(ErrBadRule.Error())+2:]
	}
	for _, r := range ruleReasons {
		if rest, ok := strings.CutPrefix(reason, r.prefix); ok {
			return console.Invalid(r.field, "%s%s", r.message, rest)
		}
	}
	return console.Invalid("rule", "规则不对：%s", reason)
}

// ruleOrg is the org the rule page is about: ?org= (or the form's org_id), else the viewer's own, else
// (a viewer of the whole installation) the first county.
func (h *Web) ruleOrg(c *gin.Context, id string) (uint, error) {
	n, err := idOf(id)
	if err != nil || n != 0 {
		return n, err
	}
	sc := console.ViewerOf(c).Scope
	if !sc.All {
		return sc.OrgID, nil
	}
	var orgs []models.Org
	if err := h.study.db.WithContext(c.Request.Context()).Model(&models.Org{}).Scopes(sc.Orgs).Select("id").
		Where("level = ?", models.LevelCounty).Order("path").Limit(1).Find(&orgs).Error; err != nil {
		return 0, fmt.Errorf("study: first county: %w", err)
	}
	if len(orgs) == 0 {
		return 0, scope.ErrNotFound
	}
	return orgs[0].ID, nil
}

// rulesPage renders the editor (with err, an input error, as a 400 that keeps what was typed).
func (h *Web) renderRules(c *gin.Context, r *RuleSetting, form *ruleForm, err error) {
	status := http.StatusOK
	p := rulesPage{RuleSetting: r, Admin: console.ViewerOf(c).IsAdmin()}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = formOf(r)
	}
	if err != nil {
		var ie *console.InputError
		if !errors.As(err, &ie) {
			h.con.Fail(c, err)
			return
		}
		p.Err, status = ie, http.StatusBadRequest
	}
	var lerr error
	if p.Orgs, lerr = h.orgChoices(c); lerr == nil {
		p.Tags, lerr = h.bank.TagCounts(c.Request.Context())
	}
	if lerr != nil {
		h.con.Fail(c, lerr)
		return
	}
	h.con.Page(c, status, "study_rules", "study", "学习规则", p)
}

// RulesPage is GET /console/study/rules?org=: the study rule of an org in the viewer's scope, where
// it is inherited from, and (for administrators) the form that changes it.
func (h *Web) RulesPage(c *gin.Context) {
	id, err := h.ruleOrg(c, c.Query("org"))
	var r *RuleSetting
	if err == nil {
		r, err = h.study.RuleSetting(c.Request.Context(), console.ViewerOf(c).Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	h.renderRules(c, r, nil, nil)
}

// RulesSubmit is POST /console/study/rules (administrators): saves the form's rule for org_id, or
// with inherit=1 drops the org's own rule. Checked, audited with before and after.
func (h *Web) RulesSubmit(c *gin.Context) {
	v := console.ViewerOf(c)
	if !v.IsAdmin() {
		h.con.Fail(c, console.ErrNotAllowed)
		return
	}
	ctx := c.Request.Context()
	id, err := h.ruleOrg(c, c.PostForm("org_id"))
	var cur *RuleSetting
	if err == nil {
		cur, err = h.study.RuleSetting(ctx, v.Scope, id)
	}
	if err != nil {
		h.con.Fail(c, err)
		return
	}
	form := formFromPost(c)
	ch := RuleChange{Inherit: c.PostForm("inherit") != ""}
	if !ch.Inherit {
		if ch, err = form.change(cur.IsCounty()); err != nil {
			h.renderRules(c, cur, &form, err)
			return
		}
	}
	_, changed, err := h.study.SaveRule(ctx, v.Scope, id, ch, func(ctx context.Context, tx *gorm.DB, chg console.Change) error {
		return h.con.Record(ctx, tx, v, chg)
	})
	if err != nil {
		if errors.Is(err, ErrBadRule) {
			h.renderRules(c, cur, &form, inputError(err))
			return
		}
		h.con.Fail(c, err)
		return
	}
	msg := "没有改动"
	switch {
	case changed && ch.Inherit:
		msg = "已恢复继承上级的学习规则"
	case changed:
		msg = "已保存学习规则"
	}
	h.con.Redirect(c, "/console/study/rules?org="+strconv.FormatUint(uint64(id), 10), msg)
}
