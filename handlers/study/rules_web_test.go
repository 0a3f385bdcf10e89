package study_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// cwRuleForm is a filled-in rule form for an org.
func cwRuleForm(org uint, questions string, extra ...string) url.Values {
	v := url.Values{"org_id": {fmt.Sprint(org)}, "questions_per_task": {questions}, "review_per_task": {"2"},
		"tags": {"党史，党章"}, "publish_at": {"07:30"}, "remind_at": {"20:30"}, "points_per_right": {"3"},
		"daily_points_cap": {"30"}, "streak_bonus": {"1"}, "streak_bonus_max": {"5"}, "minutes_per_task": {"20"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func cwRuleAudits(t *testing.T, e *consoletest.Env) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	if err := e.App.DB().Where("object = ?", study.ObjectRule).Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

func cwRule(t *testing.T, e *consoletest.Env, path string) models.StudyRule {
	t.Helper()
	r, err := newService(e).RuleFor(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStudyRuleEditor(t *testing.T) {
	e := consoletest.New(t)
	cwSeed(t, e)
	db := e.App.DB()
	county, huaxi, guogou := orgID(t, db, "洪雅县"), orgID(t, db, "洪雅县/花溪镇"), orgID(t, db, "洪雅县/花溪镇/郭沟村")
	zhige := orgID(t, db, "洪雅县/止戈镇")

	// The county administrator: the county runs on the defaults; he sets its rule, its public ranking
	// (off) and its thresholds.
	c := e.Login(consoletest.County)
	body := cwGet(t, c, "/console/study/rules", http.StatusOK)
	mustContain(t, "county rules page", body, "洪雅县", "系统默认规则", `name="public_ranking"`, `name="completion_green"`, `value="5"`)
	res, body := c.PostForm("/console/study/rules", cwRuleForm(county, "8", "completion_green", "90", "completion_yellow", "60",
		"accuracy_green", "85", "accuracy_yellow", "70"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/console/study/rules?org=%d", county) {
		t.Fatalf("save county rule: %d %s", res.StatusCode, body)
	}
	r := cwRule(t, e, "洪雅县/花溪镇/郭沟村")
	if r.QuestionsPerTask != 8 || r.Tags != "党史,党章" || r.PublishAt != "07:30" || r.MinutesPerTask != 20 || r.PublicRanking {
		t.Fatalf("郭沟村 inherits %+v", r)
	}
	es := cwRuleAudits(t, e)
	if len(es) != 1 || es[0].Action != console.ActionCreate || es[0].ObjectID != fmt.Sprint(county) || es[0].OrgPath != "洪雅县" ||
		es[0].Username != consoletest.County {
		t.Fatalf("audit: %+v", es)
	}
	var before, after map[string]any
	json.Unmarshal([]byte(es[0].Before), &before)
	json.Unmarshal([]byte(es[0].After), &after)
	rule, _ := after["rule"].(map[string]any)
	th, _ := after["thresholds"].(map[string]any)
	if before["rule"] != nil || before["inherits_from"] != "默认规则" || rule["questions_per_task"] != 8.0 || rule["public_ranking"] != false ||
		th["completion_green"] != 90.0 {
		t.Fatalf("audit before/after: %s → %s", es[0].Before, es[0].After)
	}
	// The new thresholds colour the figures: 郭沟村's 50 % completion is now red.
	var p cwProgress
	e.API(e.Token(consoletest.County), http.MethodGet, fmt.Sprintf("/api/v1/study/progress?org=%d", huaxi), nil, &p)
	if u := cwUnitNamed(t, p, "郭沟村"); u.CompletionStatus != "bad" || u.Status != "bad" {
		t.Errorf("郭沟村 under the county's thresholds: %+v", u)
	}
	// Saving the same again changes nothing and records nothing.
	res, _ = c.PostForm("/console/study/rules", cwRuleForm(county, "8", "completion_green", "90", "completion_yellow", "60",
		"accuracy_green", "85", "accuracy_yellow", "70"))
	if res.StatusCode != http.StatusSeeOther || len(cwRuleAudits(t, e)) != 1 {
		t.Fatalf("an unchanged save: %d, %d audits", res.StatusCode, len(cwRuleAudits(t, e)))
	}

	// The town administrator: 花溪镇 inherits the county's rule; he gives it its own. The public
	// ranking stays the county's, and thresholds sent for a town are not his to set.
	tc := e.Login(consoletest.Town)
	body = cwGet(t, tc, "/console/study/rules", http.StatusOK)
	mustContain(t, "town rules page", body, "洪雅县/花溪镇", "继承自 洪雅县", `value="8"`, "不公开排行")
	if strings.Contains(body, `name="completion_green"`) {
		t.Errorf("a town's page offers the county's thresholds")
	}
	res, body = tc.PostForm("/console/study/rules", cwRuleForm(huaxi, "6", "public_ranking", "1", "completion_green", "10"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save town rule: %d %s", res.StatusCode, body)
	}
	if r := cwRule(t, e, "洪雅县/花溪镇/郭沟村"); r.QuestionsPerTask != 6 || r.PublicRanking {
		t.Errorf("郭沟村 under 花溪镇's rule: %+v", r)
	}
	if r := cwRule(t, e, "洪雅县/止戈镇/五龙村"); r.QuestionsPerTask != 8 {
		t.Errorf("止戈镇 keeps the county's rule: %+v", r)
	}
	var tg int
	db.Table("study_thresholds").Select("completion_green").Row().Scan(&tg)
	if tg != 90 {
		t.Errorf("the county's thresholds changed through a town's form: %d", tg)
	}
	body = cwGet(t, tc, fmt.Sprintf("/console/study/rules?org=%d", guogou), http.StatusOK)
	mustContain(t, "village rules page", body, "继承自 洪雅县/花溪镇", `value="6"`)

	// Wrong values: the form again, with the reason, and nothing saved.
	res, body = tc.PostForm("/console/study/rules", cwRuleForm(huaxi, "99"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "每日题数应为 1–50") || !strings.Contains(body, `value="99"`) {
		t.Errorf("99 questions: %d\n%.2000s", res.StatusCode, body)
	}
	res, body = tc.PostForm("/console/study/rules", cwRuleForm(huaxi, "6", "publish_at", "7点"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "时间应为") {
		t.Errorf("a bad time: %d\n%.2000s", res.StatusCode, body)
	}
	res, body = tc.PostForm("/console/study/rules", cwRuleForm(huaxi, "六"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "「每日题数」应为整数") {
		t.Errorf("not a number: %d\n%.2000s", res.StatusCode, body)
	}
	// Outside his town: not found, nothing saved.
	res, _ = tc.PostForm("/console/study/rules", cwRuleForm(zhige, "3"))
	cwGet(t, tc, fmt.Sprintf("/console/study/rules?org=%d", zhige), http.StatusNotFound)
	if res.StatusCode != http.StatusNotFound || cwRule(t, e, "洪雅县/止戈镇").QuestionsPerTask != 8 {
		t.Errorf("a rule for 止戈镇 from 花溪镇: %d", res.StatusCode)
	}
	if n := len(cwRuleAudits(t, e)); n != 2 {
		t.Errorf("%d rule audits, want 2", n)
	}

	// The administrator of the whole installation starts at the first county.
	mustContain(t, "admin's rules page", cwGet(t, e.Login(consoletest.Admin), "/console/study/rules", http.StatusOK), "<h2>洪雅县</h2>", "本级规则")

	// The secretary may look, not change (403, nothing saved).
	sc := e.Login(consoletest.Secretary)
	body = cwGet(t, sc, "/console/study/rules", http.StatusOK)
	mustContain(t, "secretary's rules page", body, "郭沟村", "继承自 洪雅县/花溪镇", "<fieldset disabled>", "修改请联系管理员")
	res, _ = sc.PostForm("/console/study/rules", cwRuleForm(guogou, "3"))
	if res.StatusCode != http.StatusForbidden || cwRule(t, e, "洪雅县/花溪镇/郭沟村").QuestionsPerTask != 6 {
		t.Errorf("the secretary saves a rule: %d", res.StatusCode)
	}

	// Back to inheriting: 花溪镇 drops its own rule, audited.
	res, _ = tc.PostForm("/console/study/rules", url.Values{"org_id": {fmt.Sprint(huaxi)}, "inherit": {"1"}})
	if res.StatusCode != http.StatusSeeOther || cwRule(t, e, "洪雅县/花溪镇/郭沟村").QuestionsPerTask != 8 {
		t.Errorf("inherit again: %d", res.StatusCode)
	}
	es = cwRuleAudits(t, e)
	if len(es) != 3 || es[2].Action != console.ActionUpdate || !strings.Contains(es[2].Summary, "恢复继承") ||
		!strings.Contains(es[2].Before, `"questions_per_task":6`) || !strings.Contains(es[2].After, `"inherits_from":"洪雅县"`) {
		t.Errorf("inherit audit: %+v", es[len(es)-1])
	}
}
