package meetings_test

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

// heldMeeting puts a meeting that was held (back-entered) into the database directly.
func heldMeeting(t *testing.T, e *consoletest.Env, org, typ string, start time.Time) models.Meeting {
	t.Helper()
	m := models.Meeting{OrgID: orgID(t, e.App.DB(), org), Type: typ, Place: "会议室", StartAt: start.UTC(),
		EndAt: start.Add(time.Hour).UTC(), BackEntered: true, CreatedBy: "test"}
	if err := e.App.DB().Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOverdue: a branch whose last meeting of a type is older than the type's period, or that never
// held one, is flagged 逾期; each viewer sees his branches only.
func TestOverdue(t *testing.T) {
	e := consoletest.New(t) // 2026-11-20
	// 郭沟村: every type recently except 党课 (last in July: older than a quarter).
	for _, typ := range []string{models.MeetingCommittee, models.MeetingGroup, models.MeetingThemeDay} {
		heldMeeting(t, e, guogou, typ, at(e, 10, 25, 9, 0))
	}
	heldMeeting(t, e, guogou, models.MeetingGeneral, at(e, 9, 1, 9, 0))
	heldMeeting(t, e, guogou, models.MeetingLecture, at(e, 7, 10, 9, 0))
	heldMeeting(t, e, guogou, models.MeetingLecture, at(e, 6, 10, 9, 0))
	// 双河村: a committee meeting last month but on the 19th: more than a month ago.
	heldMeeting(t, e, shuanghe, models.MeetingCommittee, at(e, 10, 19, 9, 0))
	// A meeting planned for next week does not count as held.
	createMeeting(t, e, consoletest.Secretary, map[string]any{"org_id": orgID(t, e.App.DB(), guogou), "type": models.MeetingLecture,
		"place": "村委会", "start_at": at(e, 11, 27, 9, 0), "end_at": at(e, 11, 27, 10, 0)})

	town := e.Login(consoletest.Town)
	res, page := town.Get("/console/meetings/overdue")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("overdue page: %d", res.StatusCode)
	}
	row := func(page, village string) string {
		i := strings.Index(page, ">"+village+"</a>")
		if i < 0 {
			return ""
		}
		end := strings.Index(page[i:], "</tr>")
		return page[i : i+end]
	}
	g := row(page, "郭沟村")
	if strings.Count(g, "逾期") != 1 || !strings.Contains(g, "2026-07-10") || !strings.Contains(g, "2026-10-25") {
		t.Errorf("郭沟村 should be overdue for 党课 only (last 2026-07-10):\n%s", g)
	}
	s := row(page, "双河村")
	if strings.Count(s, "逾期") != 5 || strings.Count(s, "从未召开") != 4 || !strings.Contains(s, "2026-10-19") {
		t.Errorf("双河村 should be overdue for every type:\n%s", s)
	}
	if strings.Contains(page, "五龙村") {
		t.Error("the town's page shows another town's village")
	}
	// Up to date for 党课 too: 郭沟村 drops out of the overdue list, and shows with ?all=1.
	heldMeeting(t, e, guogou, models.MeetingLecture, at(e, 11, 2, 9, 0))
	_, page = town.Get("/console/meetings/overdue")
	if row(page, "郭沟村") != "" {
		t.Error("郭沟村 is listed although nothing is overdue")
	}
	_, page = town.Get("/console/meetings/overdue?all=1")
	if g := row(page, "郭沟村"); g == "" || strings.Contains(g, "逾期") {
		t.Errorf("with all=1, 郭沟村 up to date:\n%s", g)
	}

	sec := e.Login(consoletest.Secretary)
	_, page = sec.Get("/console/meetings/overdue?all=1")
	if strings.Contains(page, "双河村") || !strings.Contains(page, "郭沟村") {
		t.Error("a secretary sees another village's standing, or not his own")
	}
}

// TestScope: the secretary of another village neither sees nor changes 郭沟村's meetings; the town's
// administrator sees them and may create them; nobody creates one outside his part of the tree.
func TestScope(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	// 双河村's secretary gets a console login.
	var chen models.Member
	e.App.DB().Where("name = ?", "陈志强").Take(&chen)
	h, _ := e.App.Console().HashPassword(consoletest.Password)
	sh := orgID(t, e.App.DB(), shuanghe)
	e.App.DB().Create(&models.Account{Username: "shuanghe", DisplayName: "陈志强", Role: models.ConsoleSecretary, OrgID: &sh,
		MemberID: &chen.ID, Active: true, PasswordHash: h})

	c := e.Login("shuanghe")
	path := fmt.Sprintf("/console/meetings/%d", m.ID)
	for _, p := range []string{path, path + "/screen", path + "/export.xlsx"} {
		if res, _ := c.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s from another village: %d, want 404", p, res.StatusCode)
		}
	}
	if _, list := c.Get("/console/meetings"); strings.Contains(list, "研究冬季防火") || strings.Contains(list, "郭沟村") {
		t.Error("another village's list shows 郭沟村's meeting")
	}
	res, _ := c.PostForm(path+"/attendance", url.Values{"member_id": {itoa(memberID(t, e.App.DB(), "王德明"))}, "status": {"excused"}, "note": {"x"}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("marking from another village: %d, want 404", res.StatusCode)
	}
	if res, _ := c.PostFile(path+"/files", nil, "file", "a.pdf", pdfFile); res.StatusCode != http.StatusNotFound {
		t.Errorf("uploading from another village: %d, want 404", res.StatusCode)
	}
	tok := e.Token("shuanghe")
	if st, _ := e.API(tok, http.MethodGet, fmt.Sprintf("/api/v1/meetings/%d", m.ID), nil, nil); st != http.StatusNotFound {
		t.Errorf("API get from another village: %d", st)
	}
	if st, _ := e.API(tok, http.MethodPost, "/api/v1/meetings", committee(e), nil); st != http.StatusForbidden {
		t.Errorf("API create for another village: %d, want 403", st)
	}
	if st, _ := e.API(tok, http.MethodGet, "/api/v1/meetings?org="+itoa(orgID(t, e.App.DB(), guogou)), nil, nil); st != http.StatusForbidden {
		t.Errorf("API list of another village: %d, want 403", st)
	}
	if got := getMeeting(t, e, m.ID); got.Excused != 0 || got.Expected != 4 {
		t.Errorf("the meeting changed: %+v", got)
	}
	var files int64
	e.App.DB().Model(&models.MeetingFile{}).Count(&files)
	if files != 0 {
		t.Error("a file was attached from another village")
	}

	// The town's administrator sees it and may make one for any village of his town.
	var list struct {
		Items []meetingOut `json:"items"`
		Total int          `json:"total"`
	}
	if st, body := e.API(e.Token(consoletest.Town), http.MethodGet, "/api/v1/meetings", nil, &list); st != http.StatusOK ||
		!strings.Contains(body, "研究冬季防火") || list.Total != len(list.Items) {
		t.Errorf("the town's list: %d %s", st, body)
	}
	body := committee(e)
	body["org_id"] = sh
	if got := createMeeting(t, e, consoletest.Town, body); got.Expected != 3 {
		t.Errorf("the town's meeting for 双河村: %+v", got)
	}
}
