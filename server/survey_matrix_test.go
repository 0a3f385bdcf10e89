package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The survey part of the scope matrix (the lines are in TestScopeMatrix, under the surveys comment).
// Each viewer gets a draft survey for the outside org, titled after it (out), and a named survey of
// the whole demo county (shared) in which the outside member has finished with a text answer that is
// the outsider's secret: out must neither show nor change, and shared's page, API and export must
// show neither the outside member's name nor his answer.

// surveysOutside makes (once per viewer) the two surveys and returns their ids.
func surveysOutside(t *testing.T, e *consoletest.Env, o outsider) (out, shared string) {
	t.Helper()
	db := e.App.DB()
	title := o.orgName + "的问卷"
	var sv models.Survey
	if db.Where("title = ?", title).Take(&sv).Error == nil {
		var sh models.Survey
		db.Where("title = ?", "共同问卷-"+o.user).Take(&sh)
		return fmt.Sprint(sv.ID), fmt.Sprint(sh.ID)
	}
	var outOrg, county models.Org
	db.Take(&outOrg, o.org)
	db.Where("path = ?", "洪雅县").Take(&county)
	deadline := e.Clock.Now().Add(7 * 24 * time.Hour).UTC()
	sv = models.Survey{Title: title, OrgID: outOrg.ID, OrgPath: outOrg.Path, Status: models.SurveyDraft, Deadline: deadline, CreatedBy: "x",
		Questions: []models.SurveyQuestion{{Seq: 1, Kind: models.SurveyText, Text: "问题", Options: "[]"}}}
	if err := db.Omit("Org").Create(&sv).Error; err != nil {
		t.Fatal(err)
	}
	sh := models.Survey{Title: "共同问卷-" + o.user, OrgID: county.ID, OrgPath: county.Path, Status: models.SurveyOpen, Deadline: deadline, CreatedBy: "x",
		Questions: []models.SurveyQuestion{{Seq: 1, Kind: models.SurveyText, Text: "建议", Options: "[]"}}}
	if err := db.Omit("Org").Create(&sh).Error; err != nil {
		t.Fatal(err)
	}
	var m models.Member
	db.Take(&m, o.member)
	r := models.SurveyResponse{SurveyID: sh.ID, MemberID: &m.ID, OrgID: m.OrgID, Done: true, Via: "chat"}
	db.Create(&r)
	db.Create(&models.SurveyAnswer{ResponseID: r.ID, QuestionID: sh.Questions[0].ID, SurveyID: sh.ID, Text: o.secret})
	db.Create(&models.SurveyFinish{SurveyID: sh.ID, MemberID: m.ID, OrgID: m.OrgID, FinishedAt: e.Clock.Now()})
	return fmt.Sprint(sv.ID), fmt.Sprint(sh.ID)
}

// surveyUnchanged: the outside survey is still the untouched draft, no survey was made outside the
// scope and no reminder of it was claimed.
func surveyUnchanged(t *testing.T, e *consoletest.Env, o outsider) {
	t.Helper()
	out, _ := surveysOutside(t, e, o)
	var sv models.Survey
	e.App.DB().Take(&sv, out)
	var made, reminders, broadcasts int64
	e.App.DB().Model(&models.Survey{}).Where("title = ?", "越界问卷").Count(&made)
	e.App.DB().Model(&models.SurveyReminder{}).Where("survey_id = ?", sv.ID).Count(&reminders)
	e.App.DB().Model(&models.Broadcast{}).Where("payload = ?", fmt.Sprintf(`{"survey_id":%d}`, sv.ID)).Count(&broadcasts)
	if sv.Status != models.SurveyDraft || sv.Title != o.orgName+"的问卷" || made+reminders+broadcasts > 0 || sv.Rounds != 0 {
		t.Errorf("as %s the outside survey changed or a survey went outside: %+v, made %d, reminders %d, broadcasts %d", o.user, sv, made, reminders, broadcasts)
	}
}

// surveyChecks are the matrix's checks of the survey routes, by route.
func surveyChecks(e *consoletest.Env, denied func(t *testing.T, what string, status int, body string), noLeak func(t *testing.T, what string, status int, body string, o outsider)) map[string]func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
	type check = func(t *testing.T, c *consoletest.Client, tok string, o outsider)
	get := func(path string, which func(out, shared string) string, leak bool) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			out, shared := surveysOutside(t, e, o)
			p := strings.Replace(path, ":id", which(out, shared), 1)
			p = strings.Replace(p, ":org", o.org, 1)
			var status int
			var body string
			if strings.HasPrefix(p, "/api/") {
				status, body = e.API(tok, http.MethodGet, p, nil, nil)
			} else {
				res, b := c.Get(p)
				status, body = res.StatusCode, b
			}
			if leak {
				noLeak(t, "GET "+p, status, body, o)
			} else {
				denied(t, "GET "+p, status, body)
			}
		}
	}
	outID := func(out, _ string) string { return out }
	sharedID := func(_, shared string) string { return shared }
	post := func(path string, form url.Values) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			out, _ := surveysOutside(t, e, o)
			p := strings.Replace(path, ":id", out, 1)
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if f.Get("org_id") == ":org" {
				f.Set("org_id", o.org)
			}
			var status int
			var body string
			if strings.HasPrefix(p, "/api/") {
				var b any
				if len(f) > 0 {
					b = map[string]any{"title": f.Get("title"), "org_id": atoi(f.Get("org_id")), "deadline": e.Clock.Now().Add(48 * time.Hour),
						"questions_text": f.Get("questions")}
				}
				status, body = e.API(tok, http.MethodPost, p, b, nil)
			} else {
				res, b := c.PostForm(p, f)
				status, body = res.StatusCode, b
			}
			denied(t, "POST "+p, status, body)
			surveyUnchanged(t, e, o)
		}
	}
	both := func(cs ...check) check {
		return func(t *testing.T, c *consoletest.Client, tok string, o outsider) {
			for _, ch := range cs {
				ch(t, c, tok, o)
			}
		}
	}
	newSurvey := url.Values{"title": {"越界问卷"}, "org_id": {":org"}, "deadline": {"2026-12-31T18:00"}, "questions": {"填空 越界"}}
	return map[string]check{
		"GET /console/surveys":             get("/console/surveys?per_page=500", sharedID, true),
		"GET /console/surveys/new":         get("/console/surveys/new", sharedID, true),
		"POST /console/surveys":            post("/console/surveys", newSurvey),
		"GET /console/surveys/:id":         both(get("/console/surveys/:id", outID, false), get("/console/surveys/:id", sharedID, true), get("/console/surveys/:id?org=:org", sharedID, false)),
		"GET /console/surveys/:id/edit":    get("/console/surveys/:id/edit", outID, false),
		"POST /console/surveys/:id":        post("/console/surveys/:id", url.Values{"title": {"改掉"}, "org_id": {":org"}, "deadline": {"2026-12-31T18:00"}, "questions": {"填空 改掉"}}),
		"POST /console/surveys/:id/send":   post("/console/surveys/:id/send", nil),
		"POST /console/surveys/:id/close":  post("/console/surveys/:id/close", nil),
		"POST /console/surveys/:id/remind": post("/console/surveys/:id/remind", nil),
		"GET /console/surveys/:id/export.xlsx": both(get("/console/surveys/:id/export.xlsx", outID, false), get("/console/surveys/:id/export.xlsx", sharedID, true),
			get("/console/surveys/:id/export.xlsx?org=:org", sharedID, false)),
		"GET /api/v1/surveys":             get("/api/v1/surveys?per_page=500", sharedID, true),
		"POST /api/v1/surveys":            post("/api/v1/surveys", newSurvey),
		"GET /api/v1/surveys/:id":         both(get("/api/v1/surveys/:id", outID, false), get("/api/v1/surveys/:id", sharedID, true), get("/api/v1/surveys/:id?org=:org", sharedID, false)),
		"POST /api/v1/surveys/:id/send":   post("/api/v1/surveys/:id/send", nil),
		"POST /api/v1/surveys/:id/remind": post("/api/v1/surveys/:id/remind", nil),
		// mini-program member API: no console scope; a member reaches only the surveys of his org and above
		// (handlers/survey's tests)
		"GET /api/v1/mp/surveys":              nil,
		"GET /api/v1/mp/surveys/:id":          nil,
		"POST /api/v1/mp/surveys/:id/answers": nil,
	}
}
