package reports_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// apiUnit is a unit of the report API, as a client reads it.
type apiUnit struct {
	ID       uint     `json:"id"`
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Members  int64    `json:"members"`
	Expected int64    `json:"expected"`
	Attended int64    `json:"attended"`
	Absent   int64    `json:"absent"`
	Leave    int64    `json:"leave"`
	Rest     int64    `json:"rest"`
	LateDays int64    `json:"late_days"`
	Flagged  int64    `json:"flagged"`
	Rate     *float64 `json:"rate"`
	Status   string   `json:"status"`
}

type apiReport struct {
	Period struct {
		From, To, Label string
	} `json:"period"`
	Org        *struct{ Path string } `json:"org"`
	Thresholds struct{ Green, Yellow int }
	Definition string
	Total      apiUnit
	Units      []apiUnit
	Days       []struct {
		Day string `json:"day"`
		apiUnit
	}
	Members []apiUnit
}

func rate(u apiUnit) string {
	if u.Rate == nil {
		return "null"
	}
	return fmt.Sprint(*u.Rate)
}

// TestReportAPI: the figures of the county by town, of a town by village, per day, and the members of
// a village, against the seed's table; the rate is attended ÷ (work days − leave).
func TestReportAPI(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e)
	county := e.Token(consoletest.County)

	var r apiReport
	if st, body := e.API(county, "GET", "/api/v1/attendance/report?period=week&date=2026-11-18", nil, &r); st != http.StatusOK {
		t.Fatalf("report: %d %s", st, body)
	}
	if r.Period.From != "2026-11-16" || r.Period.To != "2026-11-22" || r.Org == nil || r.Org.Path != "洪雅县" ||
		r.Thresholds.Green != 95 || r.Thresholds.Yellow != 85 || !strings.Contains(r.Definition, "应到") {
		t.Errorf("report head: %+v", r)
	}
	if r.Total.Attended != 26 || r.Total.Expected != 30 || rate(r.Total) != "86.7" || r.Total.Status != "warn" || r.Total.Members != 40 {
		t.Errorf("county total: %+v rate %s", r.Total, rate(r.Total))
	}
	want := map[string]string{"花溪镇": "23/26 88.5 warn", "止戈镇": "3/4 75 bad", "余坪镇": "0/0 null none",
		"洪雅县（本级）": "0/0 null none"} // the county's own: its 管理员
	for _, u := range r.Units {
		if got := fmt.Sprintf("%d/%d %s %s", u.Attended, u.Expected, rate(u), u.Status); got != want[u.Name] {
			t.Errorf("unit %s: %s, want %s", u.Name, got, want[u.Name])
		}
		delete(want, u.Name)
	}
	if len(want) != 0 {
		t.Errorf("units missing: %v (got %+v)", want, r.Units)
	}
	if len(r.Days) != 4 || r.Days[0].Day != "2026-11-16" || r.Days[0].Attended != 7 || r.Days[0].Expected != 8 ||
		r.Days[3].Attended != 6 || r.Days[3].Expected != 7 || r.Days[3].Flagged != 1 {
		t.Errorf("days: %+v", r.Days)
	}

	// a town: its villages; the month holds the rest day, which counts for nothing
	huaxi := orgID(t, e, "洪雅县/花溪镇")
	if st, body := e.API(county, "GET", fmt.Sprintf("/api/v1/attendance/report?org=%d&period=month&date=2026-11-10", huaxi), nil, &r); st != http.StatusOK {
		t.Fatalf("town: %d %s", st, body)
	}
	byName := map[string]apiUnit{}
	for _, u := range r.Units {
		byName[u.Name] = u
	}
	if g := byName["郭沟村"]; g.Attended != 11 || g.Expected != 14 || rate(g) != "78.6" || g.Status != "bad" || g.Leave != 2 ||
		g.Absent != 3 || g.Rest != 4 || g.LateDays != 1 || g.Flagged != 1 || g.Members != 4 {
		t.Errorf("郭沟村: %+v", g)
	}
	if s := byName["双河村"]; s.Attended != 12 || s.Expected != 12 || s.Status != "ok" {
		t.Errorf("双河村: %+v", s)
	}
	if len(r.Days) != 5 || r.Days[0].Day != "2026-11-15" || r.Days[0].Expected != 0 || r.Days[0].Rate != nil || r.Days[0].Status != "none" {
		t.Errorf("month days: %+v", r.Days)
	}

	// a village: its members
	guogou := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	if st, body := e.API(county, "GET", fmt.Sprintf("/api/v1/attendance/report?org=%d&period=week&date=2026-11-16", guogou), nil, &r); st != http.StatusOK {
		t.Fatalf("village: %d %s", st, body)
	}
	got := map[string]string{}
	for _, m := range r.Members {
		got[m.Name] = fmt.Sprintf("%d/%d %s", m.Attended, m.Expected, m.Status)
	}
	if len(r.Units) != 0 || got["王德明"] != "1/2 bad" || got["刘桂兰"] != "2/4 bad" || got["张国华"] != "4/4 ok" || len(got) != 4 {
		t.Errorf("village members: %v units %d", got, len(r.Units))
	}
	// a day: no per-day series
	r = apiReport{}
	if st, _ := e.API(county, "GET", "/api/v1/attendance/report?period=day&date=2026-11-17", nil, &r); st != http.StatusOK ||
		len(r.Days) != 0 || len(r.Members) != 0 || r.Total.Attended != 6 || r.Total.Expected != 8 || r.Period.Label != "2026-11-17" {
		t.Errorf("day: %+v", r)
	}
}

// TestReportBadInput: a wrong period or date is a clear 400 naming the field; an org outside the
// scope is not found.
func TestReportBadInput(t *testing.T) {
	e := consoletest.New(t)
	tok := e.Token(consoletest.Secretary)
	for _, c := range []struct{ q, field, msg string }{
		{"period=year", "period", "时段应为"},
		{"date=2026-02-30", "date", "日期「2026-02-30」不对"},
		{"date=20261120", "date", "2026-01-31 这样的格式"},
		{"period=week&date=yesterday", "date", "日期"},
	} {
		st, body := e.API(tok, "GET", "/api/v1/attendance/report?"+c.q, nil, nil)
		if st != http.StatusBadRequest || !strings.Contains(body, `"field":"`+c.field+`"`) || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %s", c.q, st, body)
		}
	}
	shuanghe := orgID(t, e, "洪雅县/花溪镇/双河村")
	if st, body := e.API(tok, "GET", fmt.Sprintf("/api/v1/attendance/report?org=%d", shuanghe), nil, nil); st != http.StatusNotFound {
		t.Errorf("another village: %d %s", st, body)
	}
	if st, body := e.API(tok, "GET", "/api/v1/attendance/report?org=abc", nil, nil); st != http.StatusNotFound {
		t.Errorf("org=abc: %d %s", st, body)
	}
	c := e.Login(consoletest.Secretary)
	res, body := c.Get("/console/attendance/report?date=2026-13-01")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "日期「2026-13-01」不对") {
		t.Errorf("page with a bad date: %d %.500s", res.StatusCode, body)
	}
}

// TestReportPages: the 考勤 menu leads to the county's page; the town drills down into its villages,
// the village into its members, a member into his days (audited); the secretary sees his village.
func TestReportPages(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e)
	c := e.Login(consoletest.Town)
	_, home := c.Get("/console/")
	contains(t, "menu", home, `href="/console/attendance/report">考勤</a>`)

	res, body := c.Get("/console/attendance/report?period=week&date=2026-11-18")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("town page: %d %s", res.StatusCode, body)
	}
	contains(t, "town page", body, "花溪镇考勤统计", "88%", "实到 23 / 应到 26 人天", "郭沟村", "79%", "双河村", "100%",
		`class="tag bad">79%`, `class="tag ok">100%`, "data-chart=", "逐日出勤率", "出勤率 = 实到人天 ÷ 应到人天", "2026-11-16 至 2026-11-22",
		"export.xlsx?date=2026-11-18&amp;period=week")
	lacks(t, "town page", body, "五龙村", `href="/console/attendance/report/settings`) // another town; a town administrator sets nothing

	guogou := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	_, body = c.Get(fmt.Sprintf("/console/attendance/report?org=%d&period=week&date=2026-11-18", guogou))
	contains(t, "village page", body, "郭沟村考勤统计", "人员考勤", "刘桂兰", "50%", "王德明", "1 / 2", `class="tag bad">1</span>`)
	liu := member(t, e, "刘桂兰")
	res, body = c.Get(fmt.Sprintf("/console/attendance/report/members/%d?period=week&date=2026-11-18", liu.ID))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("member page: %d", res.StatusCode)
	}
	contains(t, "member page", body, "刘桂兰的考勤", "2026-11-19", "异常标记", "缺勤", "50%")
	var n int64
	e.App.DB().Model(&models.AuditEntry{}).Where("action = ? AND object = ? AND object_id = ?", "view", "member", fmt.Sprint(liu.ID)).Count(&n)
	if n != 1 {
		t.Errorf("the look at 刘桂兰's days was audited %d times", n)
	}

	// the secretary: his village's members by default; the town is outside
	s := e.Login(consoletest.Secretary)
	_, body = s.Get("/console/attendance/report?period=week&date=2026-11-18")
	contains(t, "secretary's page", body, "郭沟村考勤统计", "张国华", "李秀英")
	lacks(t, "secretary's page", body, "双河村", "陈志强")
	huaxi := orgID(t, e, "洪雅县/花溪镇")
	if res, _ := s.Get(fmt.Sprintf("/console/attendance/report?org=%d", huaxi)); res.StatusCode != http.StatusNotFound {
		t.Errorf("secretary opens his town: %d", res.StatusCode)
	}
	chen := member(t, e, "陈志强")
	if res, _ := s.Get(fmt.Sprintf("/console/attendance/report/members/%d", chen.ID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("secretary opens another village's member: %d", res.StatusCode)
	}
}

// TestReportExport: a town's export has a summary sheet and one sheet per village with its members,
// each headed by the export time and the filters; it is audited.
func TestReportExport(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e)
	c := e.Login(consoletest.Town)
	res, body := c.Get("/console/attendance/report/export.xlsx?period=week&date=2026-11-18")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), ","); got != "花溪镇考勤汇总,双河村,张沟村,杨村,郭沟村" {
		t.Errorf("sheets: %s", got)
	}
	cell := func(sheet, axis string) string {
		v, _ := f.GetCellValue(sheet, axis)
		return v
	}
	contains(t, "summary title", cell("花溪镇考勤汇总", "A1"), "花溪镇考勤汇总", "导出时间：2026-11-20 09:30")
	contains(t, "summary filters", cell("花溪镇考勤汇总", "A2"), "范围=洪雅县/花溪镇", "时段=2026-11-16 至 2026-11-22", "状态标准=出勤率≥95%", "口径=出勤率")
	if cell("花溪镇考勤汇总", "A3") != "单位" || cell("花溪镇考勤汇总", "F3") != "出勤率（%）" {
		t.Errorf("summary header: %s %s", cell("花溪镇考勤汇总", "A3"), cell("花溪镇考勤汇总", "F3"))
	}
	rows, _ := f.GetRows("花溪镇考勤汇总")
	last := rows[len(rows)-1]
	if last[0] != "合计" || last[3] != "26" || last[4] != "23" || last[5] != "88.5" {
		t.Errorf("summary total: %v", last)
	}
	contains(t, "village sheet", cell("郭沟村", "A2"), "单位=洪雅县/花溪镇/郭沟村")
	rows, _ = f.GetRows("郭沟村")
	if len(rows) != 3+4 || rows[2][0] != "姓名" {
		t.Fatalf("郭沟村 sheet: %v", rows)
	}
	found := false
	for _, r := range rows[3:] {
		if r[0] == "王德明" {
			found = r[3] == "2" && r[4] == "1" && r[5] == "50" && r[10] == "2" && r[11] == "1"
		}
	}
	if !found {
		t.Errorf("王德明's row: %v", rows)
	}
	var n int64
	e.App.DB().Model(&models.AuditEntry{}).Where("action = ? AND summary LIKE ?", "export", "%花溪镇考勤%5 个工作表%").Count(&n)
	if n != 1 {
		t.Errorf("export audited %d times", n)
	}
}

// TestSettingsAndBoard: the county administrator sets the thresholds (statuses follow) and switches
// the board on; a wrong number is refused with nothing saved; town administrators and secretaries
// cannot change them. The board is hidden from the secretary until then, and a preview for the county.
func TestSettingsAndBoard(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e)
	sec := e.Login(consoletest.Secretary)
	_, body := sec.Get("/console/attendance/board?period=week&date=2026-11-18")
	contains(t, "board off", body, "洪雅县没有开启考勤晾晒")
	lacks(t, "board off", body, "双河村")
	secTok := e.Token(consoletest.Secretary)
	var board struct {
		Public   bool
		Villages []struct{ Name, Town, Status string }
	}
	if st, b := e.API(secTok, "GET", "/api/v1/attendance/board?period=week&date=2026-11-18", nil, &board); st != http.StatusOK || board.Public || len(board.Villages) != 0 {
		t.Errorf("board API off: %d %s", st, b)
	}

	county := e.Login(consoletest.County)
	_, body = county.Get("/console/attendance/board?period=week&date=2026-11-18")
	contains(t, "preview", body, "晾晒未开启", "郭沟村", "双河村", "五龙村", "去考勤设置开启")
	lacks(t, "preview", body, "张国华", "刘桂兰")

	countyID := orgID(t, e, "洪雅县")
	_, body = county.Get("/console/attendance/report/settings")
	contains(t, "settings", body, `name="green" value="95"`, `name="yellow" value="85"`)
	// yellow above green: refused, shown back, nothing saved
	res, body := county.PostForm("/console/attendance/report/settings", url.Values{"org_id": {fmt.Sprint(countyID)}, "green": {"70"}, "yellow": {"80"}, "board_public": {"1"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "一般线不高于良好线") || !strings.Contains(body, `value="80"`) {
		t.Errorf("bad thresholds: %d %.800s", res.StatusCode, body)
	}
	res, body = county.PostForm("/console/attendance/report/settings", url.Values{"org_id": {fmt.Sprint(countyID)}, "green": {"九十"}, "yellow": {"80"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "「良好线」应为 0–100 的整数") {
		t.Errorf("not a number: %d", res.StatusCode)
	}
	var n int64
	e.App.DB().Model(&models.AttendanceThresholds{}).Count(&n)
	if n != 0 {
		t.Fatalf("a refused setting was saved")
	}
	res, _ = county.PostForm("/console/attendance/report/settings", url.Values{"org_id": {fmt.Sprint(countyID)}, "green": {"85"}, "yellow": {"70"}, "board_public": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d", res.StatusCode)
	}
	e.App.DB().Model(&models.AuditEntry{}).Where("object = ? AND action = ?", "attendance_settings", "update").Count(&n)
	if n != 1 {
		t.Errorf("settings change audited %d times", n)
	}
	// 郭沟村's 78.6 % is yellow now, 花溪镇's 88.5 % green
	var r apiReport
	e.API(e.Token(consoletest.County), "GET", fmt.Sprintf("/api/v1/attendance/report?org=%d&period=week&date=2026-11-18", orgID(t, e, "洪雅县/花溪镇")), nil, &r)
	if r.Thresholds.Green != 85 || r.Total.Status != "ok" {
		t.Errorf("town after the change: %+v", r.Total)
	}
	for _, u := range r.Units {
		if u.Name == "郭沟村" && u.Status != "warn" {
			t.Errorf("郭沟村 after the change: %s", u.Status)
		}
	}

	// the board is on: the secretary sees every village of the county, by town, and no person
	_, body = sec.Get("/console/attendance/board?period=week&date=2026-11-18")
	contains(t, "board on", body, "郭沟村", "双河村", "五龙村", "楠木村", "止戈镇", `class="tag warn">75%`, "不排名次")
	lacks(t, "board on", body, "晾晒未开启", "刘桂兰", "郭晓燕")
	if st, b := e.API(secTok, "GET", "/api/v1/attendance/board?period=week&date=2026-11-18", nil, &board); st != http.StatusOK || !board.Public || len(board.Villages) != 11 {
		t.Errorf("board API on: %d %s", st, b)
	}

	// town administrators and secretaries change nothing
	town := e.Login(consoletest.Town)
	if res, _ := town.Get("/console/attendance/report/settings"); res.StatusCode != http.StatusNotFound {
		t.Errorf("town opens the county's settings: %d", res.StatusCode)
	}
	res, _ = town.PostForm("/console/attendance/report/settings", url.Values{"org_id": {fmt.Sprint(countyID)}, "green": {"50"}, "yellow": {"40"}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("town changes the county's settings: %d", res.StatusCode)
	}
	if res, _ := sec.Get("/console/attendance/report/settings"); res.StatusCode != http.StatusForbidden {
		t.Errorf("secretary opens the settings: %d", res.StatusCode)
	}
	var row models.AttendanceThresholds
	e.App.DB().Take(&row)
	if row.Green != 85 || row.Yellow != 70 || !row.BoardPublic {
		t.Errorf("settings after the refused changes: %+v", row)
	}
}

// TestMPBoard: the mini-program shows a member his county's board only once the county made it public,
// and needs a bound member's session.
func TestMPBoard(t *testing.T) {
	e := consoletest.New(t)
	seedWeek(t, e)
	if st, _ := e.API("", "GET", "/api/v1/mp/attendance/board", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("no session: %d", st)
	}
	var login struct {
		Token string `json:"token"`
	}
	if st, body := e.API("", "POST", "/api/v1/mp/login", map[string]string{"code": "board-test"}, &login); st != http.StatusOK {
		t.Fatalf("login: %d %s", st, body)
	}
	var code string
	e.App.DB().Table("members").Where("name = ?", "王德明").Select("bind_code").Row().Scan(&code)
	if st, body := e.API(login.Token, "POST", "/api/v1/mp/bind", map[string]string{"code": code}, nil); st != http.StatusOK {
		t.Fatalf("bind: %d %s", st, body)
	}
	var board struct {
		County   struct{ Name string }
		Public   bool
		Villages []struct {
			Name     string
			Attended int64
			Expected int64
			Status   string
		}
	}
	if st, body := e.API(login.Token, "GET", "/api/v1/mp/attendance/board?period=week&date=2026-11-18", nil, &board); st != http.StatusOK ||
		board.Public || len(board.Villages) != 0 || board.County.Name != "洪雅县" {
		t.Errorf("board off: %d %s", st, body)
	}
	row := models.AttendanceThresholds{OrgID: orgID(t, e, "洪雅县"), Green: 95, Yellow: 85, BoardPublic: true}
	if err := e.App.DB().Omit("Org").Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	st, body := e.API(login.Token, "GET", "/api/v1/mp/attendance/board?period=week&date=2026-11-18", nil, &board)
	if st != http.StatusOK || !board.Public || len(board.Villages) != 11 {
		t.Fatalf("board on: %d %s", st, body)
	}
	for _, v := range board.Villages {
		if v.Name == "郭沟村" && (v.Attended != 11 || v.Expected != 14 || v.Status != "bad") {
			t.Errorf("郭沟村 on the board: %+v", v)
		}
	}
	lacks(t, "mini-program board", body, "王德明", "刘桂兰")
	if st, body := e.API(login.Token, "GET", "/api/v1/mp/attendance/board?date=tomorrow", nil, nil); st != http.StatusBadRequest || !strings.Contains(body, "日期") {
		t.Errorf("bad date: %d %s", st, body)
	}
}
