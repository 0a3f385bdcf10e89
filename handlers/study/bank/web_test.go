package bank_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/study/bank"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The demo bank (bank.LoadDemo) is loaded with the demo county: 17 questions, among them
// 中国共产党成立于哪一年？ (单选, answer B, tag 党史).

func get(t *testing.T, c *consoletest.Client, path string, want int) string {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.2000s", path, res.StatusCode, want, body)
	}
	return body
}

func post(t *testing.T, c *consoletest.Client, path string, v url.Values, want int) (*http.Response, string) {
	t.Helper()
	res, body := c.PostForm(path, v)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d\n%.2000s", path, res.StatusCode, want, body)
	}
	return res, body
}

func question(t *testing.T, e *consoletest.Env, stem string) *models.Question {
	t.Helper()
	var q models.Question
	if err := e.App.DB().Where("stem_key = ?", bank.StemKey(stem)).Take(&q).Error; err != nil {
		t.Fatalf("question %q: %v", stem, err)
	}
	return &q
}

func audits(t *testing.T, e *consoletest.Env, action string) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	if err := e.App.DB().Where("action = ? AND object = ?", action, bank.ObjectQuestion).Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

var rowRe = regexp.MustCompile(`<td class="wrap"><a href="/console/questions/(\d+)">([^<]+)</a></td>`)

// listed are the stems (as the list shows them) of the question table's rows, in order.
func listed(body string) []string {
	var out []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2])
	}
	return out
}

const firstStem = "中国共产党成立于哪一年？"

func TestQuestionListSearchesFiltersSortsPaginatesAndExports(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary) // reading is for every viewer
	body := get(t, c, "/console/questions", http.StatusOK)
	if n := len(listed(body)); n != 17 || !strings.Contains(body, `aria-current="page">题库</a>`) {
		t.Fatalf("%d questions listed, or 题库 is not the current menu entry:\n%.3000s", n, body)
	}
	if strings.Contains(body, "/console/questions/import\"") {
		t.Fatal("a secretary is offered the import")
	}
	if got := listed(get(t, c, "/console/questions?q=党龄", http.StatusOK)); len(got) != 1 || !strings.Contains(got[0], "党龄") {
		t.Fatalf("search: %v", got)
	}
	if got := listed(get(t, c, "/console/questions?type=填空", http.StatusOK)); len(got) != 4 {
		t.Fatalf("type: %v", got)
	}
	if got := listed(get(t, c, "/console/questions?tag=党史&type=单选", http.StatusOK)); len(got) != 1 || got[0] != firstStem {
		t.Fatalf("tag and type: %v", got)
	}
	if got := listed(get(t, c, "/console/questions?per_page=5&page=4", http.StatusOK)); len(got) != 2 {
		t.Fatalf("page 4 of 5 per page: %v", got)
	}
	get(t, c, "/console/questions?active=maybe", http.StatusBadRequest)

	// Accuracy: 1 of 2 for the first question, 2 of 2 for another; the rest never answered come last.
	q1, q2 := question(t, e, firstStem), question(t, e, "党的根本组织原则是什么？")
	b := bank.New(e.App.DB(), nil, nil)
	for _, r := range []struct {
		id uint
		ok bool
	}{{q1.ID, true}, {q1.ID, false}, {q2.ID, true}, {q2.ID, true}} {
		if err := b.Record(t.Context(), nil, r.id, r.ok); err != nil {
			t.Fatal(err)
		}
	}
	body = get(t, c, "/console/questions?sort=accuracy&dir=desc", http.StatusOK)
	if got := listed(body); len(got) != 17 || got[0] != "党的根本组织原则是什么？" || got[1] != firstStem {
		t.Fatalf("by accuracy: %v", got)
	}
	if !strings.Contains(body, `<td class="num">50%</td>`) || !strings.Contains(body, `<td class="num">—</td>`) {
		t.Fatalf("accuracy column:\n%.3000s", body)
	}
	// The htmx fragment is the table alone.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/console/questions?q=党", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "table")
	res, frag := c.HTTP.Do(req)
	if frag != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %v %d", frag, res.StatusCode)
	}
	fb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(fb), "<html") || len(listed(string(fb))) == 0 {
		t.Fatalf("fragment:\n%s", fb)
	}

	// The export: every matching row, the filters in the sheet's header; audited.
	res, xb := c.Get("/console/questions/export.xlsx?tag=党章&type=判断")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(xb, "PK") {
		t.Fatalf("export: %d %.200s", res.StatusCode, xb)
	}
	f, err := excelize.OpenReader(strings.NewReader(xb))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	f.Close()
	text := fmt.Sprint(rows)
	if !strings.Contains(text, "题型=判断") || !strings.Contains(text, "标签=党章") || len(rows) != 3+3 {
		t.Fatalf("export rows:\n%v", rows)
	}
	if hdr := strings.Join(rows[2], ","); !strings.HasPrefix(hdr, "编号,题型,题干,选项A,选项B,选项C,选项D,答案,解析,标签,作答次数,答对次数,正确率,状态") {
		t.Fatalf("export header: %s", hdr)
	}
	var n int64
	e.App.DB().Model(&models.AuditEntry{}).Where("action = ? AND summary LIKE ?", console.ActionExport, "%题库%").Count(&n)
	if n != 1 {
		t.Fatalf("%d export audit entries", n)
	}
}

func TestQuestionPageEditRetireAndRestoreAreAudited(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	q := question(t, e, firstStem)
	path := fmt.Sprintf("/console/questions/%d", q.ID)
	body := get(t, c, path, http.StatusOK)
	for _, want := range []string{firstStem, "1921年", `<span class="tag ok">正确答案</span>`, "嘉兴南湖", "还没有人答过", path + "/edit", path + "/retire"} {
		if !strings.Contains(body, want) {
			t.Fatalf("question page lacks %q:\n%.3000s", want, body)
		}
	}
	get(t, c, "/console/questions/999999", http.StatusNotFound)
	get(t, c, "/console/questions/abc", http.StatusNotFound)

	// The form keeps the input and names the wrong field.
	form := get(t, c, path+"/edit", http.StatusOK)
	if !strings.Contains(form, `value="1927年"`) || !strings.Contains(form, `name="option"`) {
		t.Fatalf("edit form:\n%.3000s", form)
	}
	v := url.Values{"type": {"单选"}, "stem": {firstStem + "（修订）"}, "option": {"1919年", "1921年", "1927年", "1949年", ""},
		"answer": {"E"}, "explanation": {"新解析"}, "tags": {"党史，建党"}}
	_, body = post(t, c, path+"/edit", v, http.StatusBadRequest)
	if !strings.Contains(body, "答案里的 E 不在选项里") || !strings.Contains(body, "（修订）") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Fatalf("bad answer:\n%.3000s", body)
	}
	v.Set("answer", "ｂ")
	res, _ := post(t, c, path+"/edit", v, http.StatusSeeOther)
	if res.Header.Get("Location") != path {
		t.Fatalf("redirect to %q", res.Header.Get("Location"))
	}
	body = get(t, c, path, http.StatusOK)
	if !strings.Contains(body, "已保存修改") || !strings.Contains(body, "建党") {
		t.Fatalf("after edit:\n%.3000s", body)
	}
	got := question(t, e, firstStem+"（修订）")
	if got.ID != q.ID || got.Answer != "B" || got.Tags != "党史,建党" || got.Explanation != "新解析" {
		t.Fatalf("edited: %+v", got)
	}
	es := audits(t, e, console.ActionUpdate)
	if len(es) != 1 || es[0].Username != consoletest.Town || es[0].OrgPath != "洪雅县/花溪镇" || es[0].ObjectID != fmt.Sprint(q.ID) ||
		!strings.Contains(es[0].Before, firstStem) || !strings.Contains(es[0].After, "（修订）") {
		t.Fatalf("edit audit: %+v", es)
	}
	// The administrator finds it in his own audit log.
	if body := get(t, c, "/console/audit", http.StatusOK); !strings.Contains(body, "修改题目") {
		t.Fatalf("the town administrator's audit log lacks the edit:\n%.3000s", body)
	}
	// Saving again unchanged: no entry.
	post(t, c, path+"/edit", v, http.StatusSeeOther)
	if len(audits(t, e, console.ActionUpdate)) != 1 {
		t.Fatal("an unchanged save was audited")
	}

	post(t, c, path+"/retire", nil, http.StatusSeeOther)
	if body := get(t, c, path, http.StatusOK); !strings.Contains(body, "已停用这道题") || !strings.Contains(body, path+"/restore") {
		t.Fatalf("after retire:\n%.3000s", body)
	}
	if question(t, e, got.Stem).Active {
		t.Fatal("not retired")
	}
	if got := listed(get(t, c, "/console/questions?active=no", http.StatusOK)); len(got) != 1 {
		t.Fatalf("retired list: %v", got)
	}
	post(t, c, path+"/restore", nil, http.StatusSeeOther)
	if !question(t, e, got.Stem).Active || len(audits(t, e, console.ActionDeactivate)) != 1 || len(audits(t, e, console.ActionActivate)) != 1 {
		t.Fatal("restore, or the audit of retire and restore")
	}
	post(t, c, "/console/questions/999999/retire", nil, http.StatusNotFound)
}

func TestASecretaryReadsTheBankButCannotChangeIt(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Secretary)
	q := question(t, e, firstStem)
	path := fmt.Sprintf("/console/questions/%d", q.ID)
	if body := get(t, c, path, http.StatusOK); strings.Contains(body, path+"/edit") || strings.Contains(body, path+"/retire") {
		t.Fatalf("a secretary is offered changes:\n%.3000s", body)
	}
	get(t, c, path+"/edit", http.StatusForbidden)
	get(t, c, "/console/questions/import", http.StatusForbidden)
	get(t, c, "/console/questions/import/template.csv", http.StatusOK)
	post(t, c, path+"/edit", url.Values{"type": {"判断"}, "stem": {"改掉"}, "answer": {"对"}}, http.StatusForbidden)
	post(t, c, path+"/retire", nil, http.StatusForbidden)
	res, _ := c.PostFile("/console/questions/import", nil, "file", "q.csv", []byte(strings.Join(bank.Header, ",")+"\n判断,越界,,,,,对,,\n"))
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("import: %d", res.StatusCode)
	}
	tok := e.Token(consoletest.Secretary)
	if st, body := e.API(tok, "PATCH", fmt.Sprintf("/api/v1/questions/%d", q.ID), map[string]any{"active": false}, nil); st != http.StatusForbidden {
		t.Fatalf("API patch: %d %s", st, body)
	}
	if st, _ := uploadAPI(t, e, tok, "q.csv", []byte("x")); st != http.StatusForbidden {
		t.Fatalf("API import: %d", st)
	}
	if st, _ := e.API(tok, "GET", fmt.Sprintf("/api/v1/questions/%d", q.ID), nil, nil); st != http.StatusOK {
		t.Fatalf("API get: %d", st)
	}
	after := question(t, e, firstStem)
	if !after.Active || !after.UpdatedAt.Equal(q.UpdatedAt) {
		t.Fatalf("the secretary changed the question: %+v", after)
	}
	var n int64
	e.App.DB().Model(&models.Question{}).Count(&n)
	if n != 17 {
		t.Fatalf("%d questions", n)
	}
}

func TestImportPageShowsRowErrorsAndIsIdempotent(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)
	body := get(t, c, "/console/questions/import", http.StatusOK)
	if !strings.Contains(body, strings.Join(bank.Header, ",")) {
		t.Fatalf("import page:\n%.3000s", body)
	}
	file := []byte(strings.Join([]string{
		strings.Join(bank.Header, ","),
		"单选,村党组织书记的任期是几年？,三年,五年,四年,两年,B,村党组织每届任期五年。,基层组织",
		"多选,答一个字母的多选题,甲,乙,丙,丁,A,,", // line 3
		"判断,中国共产党成立于哪一年？,,,,,对,,",  // an existing stem, now a 判断 (updated)
		"",
	}, "\n"))
	res, body := c.PostFile("/console/questions/import", nil, "file", "题库.csv", file)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{"第3行", "至少要有两个不同的字母", `<div class="n">1</div><div class="l">新增</div>`, `<div class="n">1</div><div class="l">更新</div>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("import result lacks %q:\n%.3000s", want, body)
		}
	}
	if q := question(t, e, firstStem); q.Type != models.QuestionJudge || q.Answer != "对" {
		t.Fatalf("updated question: %+v", q)
	}
	es := audits(t, e, console.ActionImport)
	if len(es) != 1 || es[0].Username != consoletest.County || es[0].OrgPath != "洪雅县" || !strings.Contains(es[0].Summary, "新增 1") {
		t.Fatalf("import audit: %+v", es)
	}
	res, body = c.PostFile("/console/questions/import", nil, "file", "题库.csv", file)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<div class="n">2</div><div class="l">没有变化</div>`) ||
		!strings.Contains(body, `<div class="n">0</div><div class="l">新增</div>`) {
		t.Fatalf("second import:\n%.3000s", body)
	}

	// XLSX, with the template's rows.
	tpl := get(t, c, "/console/questions/import/template.csv", http.StatusOK)
	if !strings.HasPrefix(tpl, "\ufeff"+strings.Join(bank.Header, ",")+"\r\n") {
		t.Fatalf("template: %q", tpl)
	}
	x := excelize.NewFile()
	for i, line := range strings.Split(strings.TrimSpace(strings.TrimPrefix(tpl, "\ufeff")), "\r\n") {
		cells := strings.Split(line, ",")
		row := make([]any, len(cells))
		for j, v := range cells {
			row[j] = v
		}
		x.SetSheetRow(x.GetSheetName(0), fmt.Sprintf("A%d", i+1), &row)
	}
	var buf bytes.Buffer
	x.Write(&buf)
	res, body = c.PostFile("/console/questions/import", nil, "file", "模板.xlsx", buf.Bytes())
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "全部导入成功") {
		t.Fatalf("xlsx import: %d\n%.3000s", res.StatusCode, body)
	}

	// Not a question bank; no file.
	res, body = c.PostFile("/console/questions/import", nil, "file", "x.csv", []byte("姓名,手机号,角色,组织\n"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "表头") || strings.Contains(body, "table:") {
		t.Fatalf("bad file: %d\n%.3000s", res.StatusCode, body)
	}
	res, body = c.PostFile("/console/questions/import", nil, "other", "x.csv", file)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请选择要导入的文件") {
		t.Fatalf("no file: %d\n%.3000s", res.StatusCode, body)
	}
}

type apiQuestion struct {
	ID       uint     `json:"id"`
	Type     string   `json:"type"`
	Stem     string   `json:"stem"`
	Options  []string `json:"options"`
	Answer   string   `json:"answer"`
	Tags     []string `json:"tags"`
	Active   bool     `json:"active"`
	Attempts int64    `json:"attempts"`
	Accuracy *float64 `json:"accuracy"`
}

func uploadAPI(t *testing.T, e *consoletest.Env, tok, name string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/questions/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestQuestionsAPI(t *testing.T) {
	e := consoletest.New(t)
	tok := e.Token(consoletest.County)
	var list struct {
		Items   []apiQuestion `json:"items"`
		Total   int64         `json:"total"`
		Page    int           `json:"page"`
		PerPage int           `json:"per_page"`
	}
	if st, body := e.API(tok, "GET", "/api/v1/questions?type=单选&per_page=3&page=2", nil, &list); st != http.StatusOK {
		t.Fatalf("list: %d %s", st, body)
	}
	if list.Total != 7 || len(list.Items) != 3 || list.Page != 2 || list.PerPage != 3 || list.Items[0].Type != "单选" || len(list.Items[0].Options) != 4 {
		t.Fatalf("list: %+v", list)
	}
	q := question(t, e, firstStem)
	var one apiQuestion
	if st, _ := e.API(tok, "GET", fmt.Sprintf("/api/v1/questions/%d", q.ID), nil, &one); st != http.StatusOK ||
		one.Answer != "B" || one.Accuracy != nil || len(one.Tags) != 1 || one.Tags[0] != "党史" {
		t.Fatalf("get: %+v", one)
	}
	if st, _ := e.API(tok, "GET", "/api/v1/questions/999999", nil, nil); st != http.StatusNotFound {
		t.Fatalf("missing: %d", st)
	}

	// PATCH: fields left out stay; bad input names its field; active retires.
	st, body := e.API(tok, "PATCH", fmt.Sprintf("/api/v1/questions/%d", q.ID), map[string]any{"answer": "AB"}, nil)
	var apiErr struct{ Error, Field string }
	json.Unmarshal([]byte(body), &apiErr)
	if st != http.StatusBadRequest || apiErr.Field != "answer" {
		t.Fatalf("bad patch: %d %s", st, body)
	}
	if st, body := e.API(tok, "PATCH", fmt.Sprintf("/api/v1/questions/%d", q.ID), map[string]any{"answer": "c", "tags": []string{"党史", "建党"}, "active": false}, &one); st != http.StatusOK ||
		one.Answer != "C" || one.Active || len(one.Tags) != 2 || one.Stem != firstStem || len(one.Options) != 4 {
		t.Fatalf("patch: %d %s", st, body)
	}
	if n := len(audits(t, e, console.ActionUpdate)) + len(audits(t, e, console.ActionDeactivate)); n != 2 {
		t.Fatalf("%d audit entries for the patch", n)
	}

	st, body = uploadAPI(t, e, tok, "q.csv", []byte(strings.Join(bank.Header, ",")+"\n判断,API 导入的题。,,,,,对,,\n判断,,,,,,对,,\n"))
	var res struct {
		Created int `json:"created"`
		Errors  []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	json.Unmarshal([]byte(body), &res)
	if st != http.StatusOK || res.Created != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 3 {
		t.Fatalf("API import: %d %s", st, body)
	}
	if st, body := uploadAPI(t, e, tok, "q.csv", []byte("名字\n")); st != http.StatusBadRequest {
		t.Fatalf("API import of a bad file: %d %s", st, body)
	}
}
