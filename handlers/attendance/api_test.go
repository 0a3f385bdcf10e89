package attendance_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestMPCheckIn: the mini-program's check-in with coordinates as strings or numbers; bad input is
// refused with a clear message and nothing recorded; outside is 422 with the distance, or off-site
// with a reason; a mocked location is flagged; a retry records once; today lists it all.
func TestMPCheckIn(t *testing.T) {
	e := consoletest.New(t)
	tok := mpLogin(t, e, "o-mp-wang", "王德明")
	p := demoPlace(t, e)
	var m models.Member
	e.App.DB().Where("name = ?", "王德明").Take(&m)
	records := func() int64 { return count(t, e, "check_ins", "member_id = ?", m.ID) }
	post := func(body any) (int, map[string]any) {
		t.Helper()
		st, raw := e.API(tok, http.MethodPost, "/api/v1/mp/attendance/checkin", body, nil)
		var out map[string]any
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("not JSON: %s", raw)
		}
		return st, out
	}
	lat := func(d float64) float64 { return p.Lat + d/metresPerDegree }

	for _, tc := range []struct {
		name  string
		body  any
		field string
		text  string
	}{
		{"no kind", map[string]any{"lat": p.Lat, "lng": p.Lng}, "kind", "kind 应为 in"},
		{"no coordinates", map[string]any{"kind": "in"}, "lat", "没有收到位置"},
		{"latitude abc", map[string]any{"kind": "in", "lat": "abc", "lng": "103.3"}, "lat", "纬度「abc」不是有效的坐标"},
		{"longitude object", map[string]any{"kind": "in", "lat": "29.9", "lng": map[string]any{"x": 1}}, "lng", "经度"},
		{"0,0", map[string]any{"kind": "in", "lat": 0, "lng": 0}, "lat", "位置无效"},
		{"latitude 91", map[string]any{"kind": "in", "lat": "91", "lng": "103.3"}, "lat", "位置无效"},
		{"long reason", map[string]any{"kind": "in", "lat": p.Lat, "lng": p.Lng, "reason": strings.Repeat("长", 101)}, "reason", "最多 100 个字"},
	} {
		st, out := post(tc.body)
		if st != http.StatusBadRequest || out["field"] != tc.field || !strings.Contains(out["message"].(string), tc.text) {
			t.Errorf("%s: %d %v", tc.name, st, out)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/mp/attendance/checkin", strings.NewReader(`{"kind":`))
	req.Header.Set("Authorization", "Bearer "+tok)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("broken JSON: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if n := records(); n != 0 {
		t.Fatalf("bad input recorded %d check-ins", n)
	}

	// Outside, no reason: 422 with the distance and the place, nothing recorded.
	st, out := post(map[string]any{"kind": "in", "lat": lat(800), "lng": p.Lng, "accuracy": 30})
	if st != http.StatusUnprocessableEntity || out["error"] != "outside" || out["distance"].(float64) < 799 ||
		!strings.Contains(out["message"].(string), "你距离郭沟村村委会 800 米") || out["place"].(map[string]any)["name"] != placeName {
		t.Fatalf("outside: %d %v", st, out)
	}
	if n := records(); n != 0 {
		t.Fatalf("outside recorded %d", n)
	}
	// Inside, coordinates as strings (as the LOCATION event writes them), a mocked location: recorded and flagged.
	st, out = post(map[string]any{"kind": "in", "lat": formatF(lat(50)),
		"lng": formatF(p.Lng), "accuracy": "12.5", "mock": true, "request_id": "tap-1"})
	rec, _ := out["record"].(map[string]any)
	if st != http.StatusCreated || out["recorded"] != true || rec["status"] != "ok" || rec["accuracy"].(float64) != 12.5 ||
		!strings.Contains(out["message"].(string), "签到成功") || rec["flags"].([]any)[0] != "mock" {
		t.Fatalf("inside: %d %v", st, out)
	}
	// The same request again (a retry): 200, duplicate, still one record.
	st, out = post(map[string]any{"kind": "in", "lat": lat(50), "lng": p.Lng, "request_id": "tap-1"})
	if st != http.StatusOK || out["duplicate"] != true || records() != 1 {
		t.Fatalf("retry: %d %v, %d records", st, out, records())
	}
	// Checked in already: nothing new.
	st, out = post(map[string]any{"kind": "in", "lat": lat(10), "lng": p.Lng})
	if st != http.StatusOK || out["already"] != true || records() != 1 {
		t.Fatalf("already: %d %v", st, out)
	}
	// Check-out outside with a reason: off-site, pending, with its request.
	e.Clock.Add(2 * 3600e9)
	st, out = post(map[string]any{"kind": "out", "lat": lat(5000), "lng": p.Lng, "reason": "去镇上交材料"})
	rec, _ = out["record"].(map[string]any)
	if st != http.StatusCreated || rec["status"] != "pending" || rec["offsite"] != true || count(t, e, "attend_requests", "member_id = ? AND kind = ?", m.ID, models.RequestOffsite) != 1 {
		t.Fatalf("off-site: %d %v", st, out)
	}

	var today struct {
		Day       string `json:"day"`
		WorkDay   bool   `json:"work_day"`
		CheckedIn bool   `json:"checked_in"`
		Places    []struct {
			Name   string `json:"name"`
			Radius int    `json:"radius"`
		} `json:"places"`
		Records []struct {
			Kind   string `json:"kind"`
			Status string `json:"status"`
		} `json:"records"`
	}
	if st, raw := e.API(tok, http.MethodGet, "/api/v1/mp/attendance/today", nil, &today); st != http.StatusOK {
		t.Fatalf("today: %d %s", st, raw)
	}
	if today.Day != "2026-11-20" || !today.WorkDay || !today.CheckedIn || len(today.Places) != 1 || today.Places[0].Name != placeName ||
		len(today.Records) != 2 || today.Records[1].Status != "pending" {
		t.Fatalf("today = %+v", today)
	}
	// A console token is no mini-program session.
	if st, _ := e.API(e.Token(consoletest.County), http.MethodGet, "/api/v1/mp/attendance/today", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("console token on the mp API: %d", st)
	}
}

// formatF is a coordinate as a string, the way WeChat writes it.
func formatF(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// TestPlacesConsoleAndAPI: a secretary manages his village's places and no other's; bad input is
// shown back with a clear message and changes nothing; the duty rule shows where it is inherited from
// and only administrators change it; places import by file in the console and by the API.
func TestPlacesConsoleAndAPI(t *testing.T) {
	e := consoletest.New(t)
	sec := e.Login(consoletest.Secretary)
	var guogou, shuanghe models.Org
	e.App.DB().Where("path = ?", village).Take(&guogou)
	e.App.DB().Where("path = ?", "洪雅县/花溪镇/双河村").Take(&shuanghe)

	res, body := sec.Get("/console/attendance/places")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, placeName) || strings.Contains(body, "双河村村委会") {
		t.Fatalf("places page: %d\n%s", res.StatusCode, body)
	}
	form := func(org uint, name, lat, lng, radius string) url.Values {
		return url.Values{"org_id": {itoa(org)}, "name": {name}, "lat": {lat}, "lng": {lng}, "radius": {radius}}
	}
	for _, tc := range []struct {
		name string
		v    url.Values
		text string
	}{
		{"radius 50", form(guogou.ID, "文化广场", "29.9", "103.3", "50"), "签到范围应在 100–3000 米之间"},
		{"radius 3001", form(guogou.ID, "文化广场", "29.9", "103.3", "3001"), "签到范围应在 100–3000 米之间"},
		{"latitude abc", form(guogou.ID, "文化广场", "abc", "103.3", "300"), "纬度应为数字"},
		{"latitude 95", form(guogou.ID, "文化广场", "95", "103.3", "300"), "纬度应在 -90 到 90 之间"},
		{"0,0", form(guogou.ID, "文化广场", "0", "0", "300"), "坐标不能是 0,0"},
		{"no name", form(guogou.ID, " ", "29.9", "103.3", "300"), "请填写地点名称"},
		{"taken name", form(guogou.ID, placeName, "29.9", "103.3", "300"), "已有名为「郭沟村村委会」的签到地点"},
	} {
		res, body := sec.PostForm("/console/attendance/places", tc.v)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.text) || !strings.Contains(body, `value="文化广场"`) && tc.name != "no name" && tc.name != "taken name" {
			t.Errorf("%s: %d, want 400 with %q", tc.name, res.StatusCode, tc.text)
		}
	}
	if res, _ := sec.PostForm("/console/attendance/places", form(shuanghe.ID, "越界", "29.9", "103.3", "300")); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a place in another village: %d", res.StatusCode)
	}
	if n := count(t, e, "check_places", "name IN ?", []string{"文化广场", "越界"}); n != 0 {
		t.Fatalf("bad input made %d places", n)
	}
	if res, body := sec.PostForm("/console/attendance/places", form(guogou.ID, "文化广场", "29.91", "103.31", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var plaza models.CheckPlace
	if err := e.App.DB().Where("name = ?", "文化广场").Take(&plaza).Error; err != nil || plaza.Radius != 300 || plaza.OrgID != guogou.ID {
		t.Fatalf("new place = %+v %v", plaza, err)
	}
	if res, body := sec.PostForm("/console/attendance/places/"+itoa(plaza.ID), form(0, "文化广场", "29.91", "103.31", "500")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, body)
	}
	if res, _ := sec.PostForm("/console/attendance/places/"+itoa(plaza.ID)+"/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	e.App.DB().Take(&plaza, plaza.ID)
	if plaza.Radius != 500 || plaza.Active {
		t.Fatalf("after edit and deactivate: %+v", plaza)
	}
	if n := count(t, e, "audit_entries", "object = ? AND object_id = ?", "check_place", itoa(plaza.ID)); n != 3 {
		t.Fatalf("%d audit entries of the place, want 3", n)
	}

	// Duty rules: inherited from the county; a secretary may only look.
	res, body = sec.Get("/console/attendance/rules")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "继承自 洪雅县") || !strings.Contains(body, "周一至周五") {
		t.Fatalf("rules page: %d\n%s", res.StatusCode, body)
	}
	rule := url.Values{"org_id": {itoa(guogou.ID)}, "work_days": {"1", "2", "3", "4", "5", "6"}, "on_duty": {"08:30"}, "off_duty": {"17:30"},
		"late_grace": {"5"}, "early_grace": {"5"}}
	if res, _ := sec.PostForm("/console/attendance/rules", rule); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a secretary set a rule: %d", res.StatusCode)
	}
	admin := e.Login(consoletest.Town)
	rule.Del("_csrf") // PostForm put the secretary's there
	bad := url.Values{"org_id": {itoa(guogou.ID)}, "on_duty": {"18:00"}, "off_duty": {"17:30"}, "late_grace": {"5"}, "early_grace": {"5"}, "work_days": {"1"}}
	if res, body := admin.PostForm("/console/attendance/rules", bad); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "下班时间应晚于上班时间") {
		t.Fatalf("bad rule: %d", res.StatusCode)
	}
	if res, body := admin.PostForm("/console/attendance/rules", rule); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("town admin sets the village's rule: %d %s", res.StatusCode, body)
	}
	var api struct {
		Own      bool   `json:"own"`
		From     string `json:"from"`
		WorkDays string `json:"work_days"`
		OnDuty   string `json:"on_duty"`
	}
	if st, raw := e.API(e.Token(consoletest.Secretary), http.MethodGet, "/api/v1/attendance/rules", nil, &api); st != http.StatusOK ||
		!api.Own || api.From != village || api.WorkDays != "123456" || api.OnDuty != "08:30" {
		t.Fatalf("rule API: %d %s", st, raw)
	}
	// A member of the village now checks in by the village's rule: 09:30 is late against 08:30.
	ch := newChat(t, e, "o-liu", "刘桂兰")
	ch.text("签到")
	wants(t, "village rule", ch.at(0), "迟到 60 分钟（上班时间 08:30）")

	// Import by file: good rows in, bad rows by line, other villages refused.
	csv := "组织,名称,纬度,经度,半径米\n" +
		village + ",党群服务中心,29.9101,103.3702,\n" + // line 2: default radius
		village + ",村小学,29.91x,103.37,300\n" + // line 3: bad latitude
		village + ",村卫生室,29.91,103.37,5000\n" + // line 4: radius too big
		"洪雅县/花溪镇/双河村,双河活动室,29.9,103.4,300\n" + // line 5: outside
		"洪雅县/花溪镇/不存在村,活动室,29.9,103.4,300\n" // line 6: unknown org
	res, body = sec.PostFile("/console/attendance/places/import", nil, "file", "places.csv", []byte(csv))
	for _, want := range []string{"第3行：纬度「29.91x」不是有效的数字", "第4行：半径 5000 米超出范围", "第5行：组织「洪雅县/花溪镇/双河村」不在你的管理范围内",
		"第6行：组织「洪雅县/花溪镇/不存在村」不存在"} {
		if !strings.Contains(body, want) {
			t.Errorf("import page lacks %q", want)
		}
	}
	if res.StatusCode != http.StatusOK || count(t, e, "check_places", "name = ? AND radius = 300", "党群服务中心") != 1 ||
		count(t, e, "check_places", "name IN ?", []string{"村小学", "村卫生室", "双河活动室", "活动室"}) != 0 {
		t.Fatalf("import: %d\n%s", res.StatusCode, body)
	}
	if res, body := sec.PostFile("/console/attendance/places/import", nil, "file", "x.csv", []byte("姓名,手机号\n")); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "表头") {
		t.Fatalf("wrong header: %d", res.StatusCode)
	}

	// The JSON API: list, create, change; bad input is 400 with the field.
	tok := e.Token(consoletest.Secretary)
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
		Total int `json:"total"`
	}
	if st, raw := e.API(tok, http.MethodGet, "/api/v1/attendance/places?active=true", nil, &list); st != http.StatusOK || list.Total != 2 {
		t.Fatalf("places API: %d %s", st, raw)
	}
	var created struct {
		ID     uint `json:"id"`
		Radius int  `json:"radius"`
	}
	if st, raw := e.API(tok, http.MethodPost, "/api/v1/attendance/places", map[string]any{"org_id": guogou.ID, "name": "篮球场", "lat": 29.92, "lng": 103.37}, &created); st != http.StatusCreated || created.Radius != 300 {
		t.Fatalf("create by API: %d %s", st, raw)
	}
	if st, raw := e.API(tok, http.MethodPatch, "/api/v1/attendance/places/"+itoa(created.ID), map[string]any{"radius": 99}, nil); st != http.StatusBadRequest || !strings.Contains(raw, `"field":"radius"`) {
		t.Fatalf("radius 99 by API: %d %s", st, raw)
	}
	if st, raw := e.API(tok, http.MethodPatch, "/api/v1/attendance/places/"+itoa(created.ID), map[string]any{"radius": 800, "active": false}, &created); st != http.StatusOK || created.Radius != 800 {
		t.Fatalf("patch by API: %d %s", st, raw)
	}
}
