package study_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The console's study figures, on a seeded set of tasks and answers in the demo county (clock:
// 2026-11-20, a Friday). cwSeed's tasks, with the answers right (T) or wrong (F) to the questions
// cwStems in order:
//
//	2026-11-20  郭沟村  张国华 TTTTF done · 李秀英 TTTTT done · 王德明 TF · 刘桂兰 (none)
//	            双河村  陈志强 TFFTF done · 杨丽华 TTFTF done · 赵永福 TTTTT done
//	            五龙村  郭晓燕 (none)                                   (止戈镇)
//	2026-11-19  郭沟村  张国华 TTTTT done
//
// Today: 郭沟村 completion 2/4 = 50 % (yellow), accuracy 10/12 (green) → yellow; 双河村 3/3 (green),
// 10/15 = 67 % (yellow) → yellow; 花溪镇 5/7, 20/27 → yellow; 止戈镇 0/1 → red; 余坪镇 nothing.
var cwStems = []string{
	"中国共产党成立于哪一年？",            // 党史
	"党的根本组织原则是什么？",            // 党章
	"预备党员的预备期为多长时间？",          // 党章, 发展党员
	"“三会一课”中的“三会”是指哪些？",       // 组织生活
	"中国共产党的最高理想和最终目标是实现____。", // 党章
}

type cwTask struct {
	name, day string
	answers   string // T or F per question of cwStems, in order
	done      bool
}

var cwTasks = []cwTask{
	{"张国华", "2026-11-20", "TTTTF", true}, {"李秀英", "2026-11-20", "TTTTT", true}, {"王德明", "2026-11-20", "TF", false},
	{"刘桂兰", "2026-11-20", "", false},
	{"陈志强", "2026-11-20", "TFFTF", true}, {"杨丽华", "2026-11-20", "TTFTF", true}, {"赵永福", "2026-11-20", "TTTTT", true},
	{"郭晓燕", "2026-11-20", "", false},
	{"张国华", "2026-11-19", "TTTTT", true},
}

// cwSeed writes cwTasks with their answers, 张国华's ledger and wrong-answer book, and the running
// totals of three members (王德明's are of last year, so they count for nothing this year).
func cwSeed(t *testing.T, e *consoletest.Env) map[string]uint64 {
	t.Helper()
	db := e.App.DB()
	qs := make([]uint, len(cwStems))
	for i, s := range cwStems {
		qs[i] = question(t, db, s).ID
	}
	taskIDs := map[string]uint64{}
	for _, ct := range cwTasks {
		var m models.Member
		if err := db.Where("name = ?", ct.name).Take(&m).Error; err != nil {
			t.Fatalf("member %s: %v", ct.name, err)
		}
		at, _ := time.ParseInLocation("2006-01-02 15:04", ct.day+" 08:00", e.App.Config().Location)
		task := models.StudyTask{MemberID: m.ID, Day: ct.day, OrgID: m.OrgID, Items: "[]", Total: 5, Next: len(ct.answers),
			Answered: len(ct.answers), RightAnswers: strings.Count(ct.answers, "T"), CreatedAt: at, UpdatedAt: at}
		if ct.done {
			task.CompletedAt, task.Points = &at, 2*task.RightAnswers
		}
		if err := db.Omit("Member").Create(&task).Error; err != nil {
			t.Fatal(err)
		}
		taskIDs[ct.name+" "+ct.day] = task.ID
		for i, r := range ct.answers {
			a := models.StudyAnswer{TaskID: task.ID, QuestionID: qs[i], MemberID: m.ID, Given: "x", Correct: r == 'T', At: at.UTC()}
			if err := db.Omit("Task").Create(&a).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	zhang := memberID(t, db, "张国华")
	for _, le := range []models.LedgerEntry{
		{MemberID: zhang, Kind: models.LedgerPoints, Source: fmt.Sprintf("task:%d", taskIDs["张国华 2026-11-19"]), Amount: 10, Day: "2026-11-19", Year: 2026},
		{MemberID: zhang, Kind: models.LedgerMinutes, Source: fmt.Sprintf("task:%d", taskIDs["张国华 2026-11-19"]), Amount: 15, Day: "2026-11-19", Year: 2026},
		{MemberID: zhang, Kind: models.LedgerPoints, Source: fmt.Sprintf("task:%d", taskIDs["张国华 2026-11-20"]), Amount: 8, Day: "2026-11-20", Year: 2026},
		{MemberID: zhang, Kind: models.LedgerPoints, Source: "streak:2026-11-20", Amount: 1, Day: "2026-11-20", Year: 2026},
		{MemberID: zhang, Kind: models.LedgerMinutes, Source: fmt.Sprintf("task:%d", taskIDs["张国华 2026-11-20"]), Amount: 15, Day: "2026-11-20", Year: 2026},
		{MemberID: zhang, Kind: models.LedgerPoints, Source: "task:999999", Amount: 7, Day: "2026-10-31", Year: 2026}, // last month
	} {
		if err := db.Omit("Member").Create(&le).Error; err != nil {
			t.Fatal(err)
		}
	}
	mastered := e.Clock.Now()
	for _, w := range []models.WrongItem{
		{MemberID: zhang, QuestionID: qs[4], Stage: 0, DueDay: "2026-11-21", Misses: 1, LastWrong: "2026-11-20"},
		{MemberID: zhang, QuestionID: qs[1], Stage: 2, DueDay: "2026-11-01", Misses: 1, LastWrong: "2026-10-01", MasteredAt: &mastered},
	} {
		if err := db.Omit("Member").Create(&w).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []models.StudyStats{
		{MemberID: zhang, Streak: 2, BestStreak: 6, LastDay: "2026-11-20", Points: 26, Year: 2026, YearPoints: 26, YearMinutes: 600},
		{MemberID: memberID(t, db, "李秀英"), Streak: 1, BestStreak: 3, LastDay: "2026-11-18", Points: 10, Year: 2026, YearPoints: 10, YearMinutes: 300},
		{MemberID: memberID(t, db, "王德明"), Streak: 9, BestStreak: 9, LastDay: "2025-12-31", Points: 99, Year: 2025, YearPoints: 99, YearMinutes: 999},
	} {
		if err := db.Omit("Member").Create(&st).Error; err != nil {
			t.Fatal(err)
		}
	}
	return taskIDs
}

func cwGet(t *testing.T, c *consoletest.Client, path string, want int) string {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.3000s", path, res.StatusCode, want, body)
	}
	return body
}

// Progress is the API's answer, as far as these tests read it.
type cwFigures struct {
	Published        int64    `json:"published"`
	Completed        int64    `json:"completed"`
	Answered         int64    `json:"answered"`
	Right            int64    `json:"right"`
	CompletionRate   *float64 `json:"completion_rate"`
	Accuracy         *float64 `json:"accuracy"`
	Status           string   `json:"status"`
	CompletionStatus string   `json:"completion_status"`
	AccuracyStatus   string   `json:"accuracy_status"`
}

type cwUnit struct {
	OrgID          uint    `json:"org_id"`
	Name           string  `json:"name"`
	Path           string  `json:"path"`
	HasChildren    bool    `json:"has_children"`
	Members        int64   `json:"members"`
	AvgYearHours   float64 `json:"avg_year_hours"`
	AvgTargetHours float64 `json:"avg_target_hours"`
	cwFigures
}

type cwProgress struct {
	Period struct{ From, To, Preset string } `json:"period"`
	Org    *struct {
		ID   uint   `json:"id"`
		Path string `json:"path"`
	} `json:"org"`
	Thresholds study.Thresholds `json:"thresholds"`
	Total      cwUnit           `json:"total"`
	Units      []cwUnit         `json:"units"`
	Days       []struct {
		Day string `json:"day"`
		cwFigures
	} `json:"days"`
	Tags []struct {
		Tag      string   `json:"tag"`
		Answered int64    `json:"answered"`
		Right    int64    `json:"right"`
		Accuracy *float64 `json:"accuracy"`
		Status   string   `json:"status"`
	} `json:"tags"`
}

func cwProgressOf(t *testing.T, e *consoletest.Env, token, query string) cwProgress {
	t.Helper()
	var p cwProgress
	if code, body := e.API(token, http.MethodGet, "/api/v1/study/progress"+query, nil, &p); code != http.StatusOK {
		t.Fatalf("progress%s: %d %s", query, code, body)
	}
	return p
}

func cwUnitNamed(t *testing.T, p cwProgress, name string) cwUnit {
	t.Helper()
	for _, u := range p.Units {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no unit %s in %+v", name, p.Units)
	return cwUnit{}
}

func (f cwFigures) is(published, completed, answered, right int64, status string) bool {
	return f.Published == published && f.Completed == completed && f.Answered == answered && f.Right == right && f.Status == status
}

func TestStudyProgressFigures(t *testing.T) {
	e := consoletest.New(t)
	cwSeed(t, e)
	county := e.Token(consoletest.County)

	// The county administrator sees towns (and the county office's own member); today only.
	p := cwProgressOf(t, e, county, "")
	if p.Period.From != "2026-11-20" || p.Period.To != "2026-11-20" || p.Org == nil || p.Org.Path != "洪雅县" || len(p.Units) != 4 {
		t.Fatalf("county today: %+v", p)
	}
	for _, c := range []struct {
		name                                  string
		published, completed, answered, right int64
		status                                string
	}{
		{"花溪镇", 7, 5, 27, 20, "warn"},
		{"止戈镇", 1, 0, 0, 0, "bad"},
		{"余坪镇", 0, 0, 0, 0, "none"},
		{"洪雅县（本级）", 0, 0, 0, 0, "none"},
	} {
		if u := cwUnitNamed(t, p, c.name); !u.is(c.published, c.completed, c.answered, c.right, c.status) || u.HasChildren != (c.name != "洪雅县（本级）") {
			t.Errorf("%s: %+v", c.name, u)
		}
	}
	if !p.Total.is(8, 5, 27, 20, "warn") || p.Total.Members != 40 || *p.Total.CompletionRate != 5.0/8 || p.Thresholds != study.DefaultThresholds() {
		t.Errorf("county total: %+v", p.Total)
	}
	if u := cwUnitNamed(t, p, "止戈镇"); u.Accuracy != nil || u.AccuracyStatus != "none" || u.CompletionStatus != "bad" {
		t.Errorf("止戈镇's accuracy without answers: %+v", u)
	}
	// Accuracy by tag, weakest first: 党章 9/16, 发展党员 3/5, then 党史 6/6 and 组织生活 5/5.
	var tags []string
	for _, tg := range p.Tags {
		tags = append(tags, fmt.Sprintf("%s %d/%d %s", tg.Tag, tg.Right, tg.Answered, tg.Status))
	}
	if got := strings.Join(tags, ", "); got != "党章 9/16 bad, 发展党员 3/5 warn, 党史 6/6 ok, 组织生活 5/5 ok" {
		t.Errorf("tags: %s", got)
	}

	// The administrator of the whole installation sees counties, and may drill into one.
	all := cwProgressOf(t, e, e.Token(consoletest.Admin), "")
	if all.Org != nil || len(all.Units) != 1 || all.Units[0].Name != "洪雅县" || !all.Units[0].HasChildren || !all.Total.is(8, 5, 27, 20, "warn") {
		t.Errorf("the whole installation: %+v", all)
	}

	// Drilling into 花溪镇: its villages, with hours toward the target this year.
	huaxi := orgID(t, e.App.DB(), "洪雅县/花溪镇")
	p = cwProgressOf(t, e, county, fmt.Sprintf("?org=%d", huaxi))
	if len(p.Units) != 4 {
		t.Fatalf("花溪镇's villages: %+v", p.Units)
	}
	guogou := cwUnitNamed(t, p, "郭沟村")
	if !guogou.is(4, 2, 12, 10, "warn") || guogou.CompletionStatus != "warn" || guogou.AccuracyStatus != "ok" || guogou.Members != 4 ||
		guogou.AvgYearHours != 3.8 || guogou.AvgTargetHours != 44 || guogou.HasChildren {
		t.Errorf("郭沟村: %+v", guogou)
	}
	if u := cwUnitNamed(t, p, "双河村"); !u.is(3, 3, 15, 10, "warn") || u.CompletionStatus != "ok" || u.AccuracyStatus != "warn" {
		t.Errorf("双河村: %+v", u)
	}

	// This week: yesterday's task counts too, and the days are listed.
	p = cwProgressOf(t, e, county, fmt.Sprintf("?org=%d&period=week", huaxi))
	if p.Period.From != "2026-11-16" || p.Period.To != "2026-11-20" || p.Period.Preset != "week" {
		t.Fatalf("week: %+v", p.Period)
	}
	if !p.Total.is(8, 6, 32, 25, "warn") || len(p.Days) != 2 || !p.Days[0].is(1, 1, 5, 5, "") || p.Days[0].Day != "2026-11-19" {
		t.Errorf("花溪镇 this week: %+v %+v", p.Total, p.Days)
	}
	// A range typed in, and a day.
	if p := cwProgressOf(t, e, county, "?from=2026-11-19&to=2026-11-19"); !p.Total.is(1, 1, 5, 5, "ok") || p.Period.Preset != "range" {
		t.Errorf("range: %+v", p)
	}
	if p := cwProgressOf(t, e, county, "?day=2026-11-18"); !p.Total.is(0, 0, 0, 0, "none") {
		t.Errorf("a day without tasks: %+v", p.Total)
	}
	for _, bad := range []string{"?day=2026-13-01", "?from=2026-11-20&to=2026-11-01", "?from=2024-01-01&to=2026-01-01", "?period=decade"} {
		if code, body := e.API(county, http.MethodGet, "/api/v1/study/progress"+bad, nil, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}

	// The page shows the same, with the chart of the towns and the tags.
	c := e.Login(consoletest.County)
	body := cwGet(t, c, "/console/study", http.StatusOK)
	mustContain(t, "study page", body, "花溪镇", "止戈镇", "余坪镇", `data-chart=`, "62%", "74%", "党章", "发展党员", `aria-current="page">学习</a>`,
		fmt.Sprintf(`href="/console/study?org=%d"`, huaxi))
	body = cwGet(t, c, fmt.Sprintf("/console/study?org=%d&period=week&sort=completion&dir=desc", huaxi), http.StatusOK)
	mustContain(t, "花溪镇 this week", body, "郭沟村", "双河村", "逐日完成率", "本周（2026-11-16 至 2026-11-20）", `<span class="tag warn">一般</span>`)
	if strings.Index(body, ">双河村<") > strings.Index(body, ">郭沟村<") {
		t.Errorf("sorted by completion, best first: 双河村 (3/3) should come before 郭沟村 (3/5)")
	}
}

func TestStudyMembersAndMemberPage(t *testing.T) {
	e := consoletest.New(t)
	cwSeed(t, e)
	db := e.App.DB()
	c := e.Login(consoletest.Secretary)

	// This month, 郭沟村 only (the secretary's village), by org and name.
	body := cwGet(t, c, "/console/study/members", http.StatusOK)
	mustContain(t, "members", body, "张国华", "李秀英", "王德明", "刘桂兰", "本月（2026-11-01 至 2026-11-20）", "共 4 人")
	for _, outside := range []string{"陈志强", "郭晓燕", "周建平"} {
		if strings.Contains(body, outside) {
			t.Errorf("the secretary's list shows %s", outside)
		}
	}
	tok := e.Token(consoletest.Secretary)
	var list struct {
		Items []struct {
			Name        string  `json:"name"`
			Published   int64   `json:"published"`
			Completed   int64   `json:"completed"`
			Answered    int64   `json:"answered"`
			Right       int64   `json:"right"`
			Points      int64   `json:"points"`
			YearHours   float64 `json:"year_hours"`
			TargetHours int     `json:"target_hours"`
			Streak      int     `json:"streak"`
			Status      string  `json:"status"`
		} `json:"items"`
		Total int64 `json:"total"`
	}
	if code, b := e.API(tok, http.MethodGet, "/api/v1/study/members", nil, &list); code != http.StatusOK || list.Total != 4 {
		t.Fatalf("members API: %d %s", code, b)
	}
	got := map[string]string{}
	for _, m := range list.Items {
		got[m.Name] = fmt.Sprintf("%d/%d %d/%d %dp %.1fh/%d streak %d %s", m.Completed, m.Published, m.Right, m.Answered, m.Points,
			m.YearHours, m.TargetHours, m.Streak, m.Status)
	}
	for name, want := range map[string]string{
		"张国华": "2/2 9/10 19p 10.0h/56 streak 2 ok",
		"李秀英": "1/1 5/5 0p 5.0h/56 streak 0 ok",  // missed 11-19: the streak is broken
		"王德明": "0/1 1/2 0p 0.0h/32 streak 0 bad", // last year's totals count for nothing
		"刘桂兰": "0/1 0/0 0p 0.0h/32 streak 0 bad",
	} {
		if got[name] != want {
			t.Errorf("%s: %s, want %s", name, got[name], want)
		}
	}
	// Filters: status, role, name; an org outside the scope is not found.
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/study/members?status=bad&role=%E5%85%9A%E5%91%98", nil, &list); code != http.StatusOK || list.Total != 2 {
		t.Errorf("status=bad role=党员: %+v", list)
	}
	if code, _ := e.API(tok, http.MethodGet, "/api/v1/study/members?q=%E5%BC%A0", nil, &list); code != http.StatusOK || list.Total != 1 || list.Items[0].Name != "张国华" {
		t.Errorf("q=张: %+v", list)
	}
	shuanghe := orgID(t, db, "洪雅县/花溪镇/双河村")
	for _, p := range []string{fmt.Sprintf("/api/v1/study/members?org=%d", shuanghe), fmt.Sprintf("/api/v1/study/progress?org=%d", shuanghe)} {
		if code, b := e.API(tok, http.MethodGet, p, nil, nil); code != http.StatusNotFound {
			t.Errorf("%s as the secretary: %d %s", p, code, b)
		}
	}
	cwGet(t, c, fmt.Sprintf("/console/study?org=%d", shuanghe), http.StatusNotFound)
	cwGet(t, c, fmt.Sprintf("/console/study/members?org=%d", shuanghe), http.StatusNotFound)
	cwGet(t, c, fmt.Sprintf("/console/study/members/%d", memberID(t, db, "陈志强")), http.StatusNotFound)
	if es := cwAudits(t, e, console.ActionView); len(es) != 0 {
		t.Fatalf("a refused look was audited: %+v", es)
	}

	// A member's page: his days, tags, wrong-answer book and ledger; the look is audited.
	zhang := memberID(t, db, "张国华")
	body = cwGet(t, c, fmt.Sprintf("/console/study/members/%d", zhang), http.StatusOK)
	mustContain(t, "张国华's page", body, "2026-11-19", "2026-11-20", "完成 2026-11-19 的每日学习", "连续学习奖励（2026-11-20）",
		"错题本 · 今天该复习 0 · 已掌握 1", "本时段 19 · 今年 26", "最长 6 天", "本时段学时 30 分钟", "83%")
	if strings.Contains(body, "2026-10-31") {
		t.Errorf("last month's ledger shows in this month's page")
	}
	es := cwAudits(t, e, console.ActionView)
	if len(es) != 1 || es[0].Object != "member" || es[0].ObjectID != fmt.Sprint(zhang) || es[0].Username != consoletest.Secretary ||
		es[0].OrgPath != "洪雅县/花溪镇/郭沟村" {
		t.Fatalf("view audit: %+v", es)
	}
	// The whole year: last month's credit shows too.
	body = cwGet(t, c, fmt.Sprintf("/console/study/members/%d?period=year", zhang), http.StatusOK)
	mustContain(t, "张国华's year", body, "2026-10-31", "本时段 26")

	// The town administrator sees 花溪镇's members, not 止戈镇's.
	town := e.Token(consoletest.Town)
	if code, _ := e.API(town, http.MethodGet, "/api/v1/study/members?per_page=500", nil, &list); code != http.StatusOK || list.Total != 14 {
		t.Errorf("花溪镇 has 14 members: %d", list.Total)
	}
	for _, m := range list.Items {
		if m.Name == "郭晓燕" {
			t.Errorf("the town administrator sees 止戈镇's 郭晓燕")
		}
	}
	if code, _ := e.API(town, http.MethodGet, fmt.Sprintf("/api/v1/study/progress?org=%d", orgID(t, db, "洪雅县/止戈镇")), nil, nil); code != http.StatusNotFound {
		t.Errorf("the town administrator looks into 止戈镇: %d", code)
	}
	var p cwProgress
	e.API(town, http.MethodGet, "/api/v1/study/progress", nil, &p)
	if len(p.Units) != 4 || p.Org == nil || p.Org.Path != "洪雅县/花溪镇" || !p.Total.is(7, 5, 27, 20, "warn") {
		t.Errorf("the town administrator's progress: %+v", p)
	}
	// The secretary's progress: his village alone.
	e.API(tok, http.MethodGet, "/api/v1/study/progress", nil, &p)
	if len(p.Units) != 1 || p.Units[0].Name != "郭沟村" || !p.Total.is(4, 2, 12, 10, "warn") {
		t.Errorf("the secretary's progress: %+v", p)
	}
}

func cwAudits(t *testing.T, e *consoletest.Env, action string) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	if err := e.App.DB().Where("action = ? AND object <> ?", action, "export").Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

// cwSheet downloads an export, opens it and returns its rows.
func cwSheet(t *testing.T, c *consoletest.Client, path string) [][]string {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %s %.300s", res.StatusCode, res.Header.Get("Content-Disposition"), body)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("export does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestStudyExports(t *testing.T) {
	e := consoletest.New(t)
	cwSeed(t, e)
	c := e.Login(consoletest.County)
	huaxi := orgID(t, e.App.DB(), "洪雅县/花溪镇")

	rows := cwSheet(t, c, fmt.Sprintf("/console/study/export.xlsx?org=%d&period=week&sort=name", huaxi))
	if len(rows) != 3+4+1 {
		t.Fatalf("rows: %q", rows)
	}
	mustContain(t, "filters row", rows[1][0], "范围=洪雅县", "单位=洪雅县/花溪镇", "时段=本周（2026-11-16 至 2026-11-20）", "完成率≥80%为良好")
	if rows[2][0] != "单位" || rows[2][5] != "完成率（%）" {
		t.Errorf("header: %q", rows[2])
	}
	got := map[string]string{}
	for _, r := range rows[3:] {
		got[r[0]] = strings.Join(r[2:], " ")
	}
	if want := "4 5 3 60 17 15 88.2 3.8 44 8.5 一般"; got["郭沟村"] != want {
		t.Errorf("郭沟村: %q, want %q", got["郭沟村"], want)
	}
	if want := "14 8 6 75 32 25 78.1"; !strings.HasPrefix(got["合计"], want) {
		t.Errorf("合计: %q, want %q…", got["合计"], want)
	}

	rows = cwSheet(t, c, "/console/study/members/export.xlsx?role=%E4%B9%A6%E8%AE%B0&period=week")
	mustContain(t, "members filters row", rows[1][0], "范围=洪雅县", "时段=本周", "角色=书记")
	if len(rows) != 3+11 {
		t.Fatalf("members export: %q", rows)
	}
	for _, r := range rows[3:] {
		if r[0] == "张国华" && strings.Join(r[3:], " ") != "2 2 100 10 9 90 19 10 56 2 良好" {
			t.Errorf("张国华's row: %q", r)
		}
	}
	var n int64
	e.App.DB().Model(&models.AuditEntry{}).Where("action = ? AND username = ?", console.ActionExport, consoletest.County).Count(&n)
	if n != 2 {
		t.Errorf("%d exports audited, want 2", n)
	}

	// The secretary's export holds his village alone.
	s := e.Login(consoletest.Secretary)
	rows = cwSheet(t, s, "/console/study/members/export.xlsx")
	text := fmt.Sprint(rows)
	if strings.Contains(text, "陈志强") || !strings.Contains(text, "刘桂兰") || !strings.Contains(rows[1][0], "范围=洪雅县/花溪镇/郭沟村") {
		t.Errorf("the secretary's export: %q", rows)
	}
	rows = cwSheet(t, s, "/console/study/export.xlsx")
	if text := fmt.Sprint(rows); strings.Contains(text, "双河村") || !strings.Contains(text, "郭沟村") {
		t.Errorf("the secretary's unit export: %q", rows)
	}
}
