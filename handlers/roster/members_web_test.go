package roster_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/kv"
	"github.com/yanzhen/yanzhen/models"
)

// The demo county (see roster.LoadDemo): 40 members with phones 13800000001…40; 花溪镇 has 14 of
// them (郭沟村 4: 张国华 书记 …0002, 李秀英 …0003, 王德明 …0004, 刘桂兰 …0005; 双河村 3: 陈志强 书记
// …0006, 杨丽华 …0007, 赵永福 …0008), 止戈镇 11 (五龙村: 郭晓燕 书记 …0016, …).

func orgID(t *testing.T, e *consoletest.Env, path string) uint {
	t.Helper()
	var o models.Org
	if err := e.App.DB().Where("path = ?", path).Take(&o).Error; err != nil {
		t.Fatalf("org %s: %v", path, err)
	}
	return o.ID
}

func member(t *testing.T, e *consoletest.Env, phone string) *models.Member {
	t.Helper()
	var m models.Member
	if err := e.App.DB().Preload("Org").Where("phone = ?", phone).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", phone, err)
	}
	return &m
}

func idStr(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// audits are the audit entries of an action on a member (or other object id), oldest first.
func audits(t *testing.T, e *consoletest.Env, action, object string, objectID uint) []models.AuditEntry {
	t.Helper()
	var es []models.AuditEntry
	q := e.App.DB().Where("action = ? AND object = ?", action, object)
	if objectID != 0 {
		q = q.Where("object_id = ?", idStr(objectID))
	}
	if err := q.Order("id").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	return es
}

// snapshot decodes an audit entry's before or after.
func snapshot(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("audit value %q: %v", s, err)
	}
	return m
}

var rowRe = regexp.MustCompile(`<td><a href="/console/members/(\d+)">([^<]+)</a></td>`)

// listed are the names of the member table's rows, in order.
func listed(body string) []string {
	var names []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		names = append(names, m[2])
	}
	return names
}

func get(t *testing.T, c *consoletest.Client, path string, want int) string {
	t.Helper()
	res, body := c.Get(path)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", path, res.StatusCode, want, body)
	}
	return body
}

func post(t *testing.T, c *consoletest.Client, path string, v url.Values, want int) (*http.Response, string) {
	t.Helper()
	res, body := c.PostForm(path, v)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d\n%s", path, res.StatusCode, want, body)
	}
	return res, body
}

func TestMemberListSearchesFiltersSortsAndPaginates(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.County)

	body := get(t, c, "/console/members?per_page=100", http.StatusOK)
	if got := len(listed(body)); got != 40 || !strings.Contains(body, "找到 40 人") {
		t.Fatalf("all members: %d rows", got)
	}
	// Phones are masked in the list.
	if !strings.Contains(body, "138****0002") || strings.Contains(body, "13800000002") {
		t.Fatal("the list shows a full phone number or none")
	}
	// Unbound members show their bind code.
	if code := *member(t, e, "13800000002").BindCode; !strings.Contains(body, code) {
		t.Fatalf("bind code %s not in the list", code)
	}

	cases := []struct {
		query string
		want  []string // names, in any order; nil: just the count
		n     int
	}{
		{"q=" + url.QueryEscape("张国华"), []string{"张国华"}, 1},
		{"q=0000007", []string{"杨丽华"}, 1},                             // phone digits
		{"q=" + url.QueryEscape("138 0000 0008"), []string{"赵永福"}, 1}, // written with spaces
		{"org=" + idStr(orgID(t, e, "洪雅县/花溪镇/双河村")), []string{"陈志强", "杨丽华", "赵永福"}, 3},
		{"org=" + idStr(orgID(t, e, "洪雅县/花溪镇")), nil, 14}, // a subtree
		{"role=" + url.QueryEscape("书记"), nil, 11},
		{"role=" + url.QueryEscape("书记") + "&org=" + idStr(orgID(t, e, "洪雅县/止戈镇")), []string{"郭晓燕", "高翠兰", "郑大勇"}, 3},
		{"bound=no", nil, 40},
		{"bound=yes", nil, 0},
		{"active=no", nil, 0},
	}
	for _, tc := range cases {
		body := get(t, c, "/console/members?per_page=100&"+tc.query, http.StatusOK)
		names := listed(body)
		if len(names) != tc.n {
			t.Errorf("%s: %d rows %v, want %d", tc.query, len(names), names, tc.n)
			continue
		}
		if tc.want != nil && strings.Join(sorted(names), ",") != strings.Join(sorted(tc.want), ",") {
			t.Errorf("%s: %v, want %v", tc.query, names, tc.want)
		}
	}

	// Bind one member and deactivate another: the bound and active filters see it.
	db := e.App.DB()
	db.Exec("UPDATE members SET oa_open_id = 'o-li', bound_at = ?, bind_code = NULL WHERE phone = '13800000003'", e.Clock.Now())
	db.Exec("UPDATE members SET active = ? WHERE phone = '13800000004'", false)
	if got := listed(get(t, c, "/console/members?bound=yes", http.StatusOK)); len(got) != 1 || got[0] != "李秀英" {
		t.Errorf("bound=yes: %v", got)
	}
	body = get(t, c, "/console/members?active=no", http.StatusOK)
	if got := listed(body); len(got) != 1 || got[0] != "王德明" || !strings.Contains(body, `class="inactive"`) {
		t.Errorf("active=no: %v", got)
	}
	if got := listed(get(t, c, "/console/members?per_page=100&bound=no&active=yes", http.StatusOK)); len(got) != 38 {
		t.Errorf("bound=no&active=yes: %d rows", len(got))
	}

	// Sorting: descending is ascending reversed (except by bind time, where the unbound stay last).
	for _, s := range []string{"name", "org", "role", "created"} {
		asc := listed(get(t, c, "/console/members?per_page=100&sort="+s, http.StatusOK))
		desc := listed(get(t, c, "/console/members?per_page=100&dir=desc&sort="+s, http.StatusOK))
		if len(asc) != 40 || strings.Join(asc, ",") != strings.Join(reversed(desc), ",") {
			t.Errorf("sort %s: asc %v\ndesc %v", s, asc, desc)
		}
	}
	byRole := listed(get(t, c, "/console/members?per_page=100&sort=role", http.StatusOK))
	if byRole[0] != "周建平" { // the only 管理员 comes first
		t.Errorf("sort by role starts with %s", byRole[0])
	}
	for _, dir := range []string{"asc", "desc"} {
		byBound := listed(get(t, c, "/console/members?per_page=100&sort=bound&dir="+dir, http.StatusOK))
		if len(byBound) != 40 || byBound[0] != "李秀英" {
			t.Errorf("sort by bind time %s: the bound member is not first: %v", dir, byBound)
		}
	}
	body = get(t, c, "/console/members?sort=name&dir=desc", http.StatusOK)
	if !strings.Contains(body, `class="desc">姓名`) {
		t.Error("the sorted column is not marked")
	}

	// Pagination: pages of 15 cover everyone once.
	seen := map[string]bool{}
	for page, want := range []int{15, 15, 10} {
		body := get(t, c, "/console/members?per_page=15&sort=org&page="+strconv.Itoa(page+1), http.StatusOK)
		names := listed(body)
		if len(names) != want || !strings.Contains(body, "第 "+strconv.Itoa(page+1)+" / 3 页，共 40 条") {
			t.Fatalf("page %d: %d rows", page+1, len(names))
		}
		for _, n := range names {
			if seen[n] {
				t.Fatalf("%s on two pages", n)
			}
			seen[n] = true
		}
	}
	if got := listed(get(t, c, "/console/members?page=9", http.StatusOK)); len(got) != 0 {
		t.Errorf("past the last page: %v", got)
	}

	// htmx asks for the table alone.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/console/members?q="+url.QueryEscape("陈志强"), nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "table")
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.Contains(string(b), "<html") || strings.Join(listed(string(b)), ",") != "陈志强" {
		t.Fatalf("htmx fragment: %d\n%s", res.StatusCode, b)
	}

	// A filter the user could not have chosen is a 400.
	get(t, c, "/console/members?role=%E9%98%9F%E9%95%BF", http.StatusBadRequest)
	get(t, c, "/console/members?bound=maybe", http.StatusBadRequest)
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func reversed(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

func TestCreateEditMoveDeactivateAndReactivateAreAudited(t *testing.T) {
	e := consoletest.New(t)
	c := e.Login(consoletest.Town)
	guogou := orgID(t, e, "洪雅县/花溪镇/郭沟村")
	shuanghe := orgID(t, e, "洪雅县/花溪镇/双河村")

	get(t, c, "/console/members/new?org="+idStr(guogou), http.StatusOK)
	// Bad input: 400, the form again with the user's input and a clear message; nothing saved.
	_, body := post(t, c, "/console/members", url.Values{"name": {"赵 六"}, "phone": {"1381234"}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusBadRequest)
	if !strings.Contains(body, "不是有效的手机号") || !strings.Contains(body, `value="1381234"`) || !strings.Contains(body, `value="赵 六"`) {
		t.Fatalf("bad phone form:\n%s", body)
	}
	_, body = post(t, c, "/console/members", url.Values{"name": {"赵六"}, "phone": {"13800000016"}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusBadRequest)
	if !strings.Contains(body, "手机号已存在") {
		t.Fatalf("duplicate phone:\n%s", body)
	}
	post(t, c, "/console/members", url.Values{"name": {"赵六"}, "phone": {"13912345678"}, "role": {"队长"}, "org_id": {idStr(guogou)}}, http.StatusBadRequest)
	post(t, c, "/console/members", url.Values{"name": {""}, "phone": {"13912345678"}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusBadRequest)

	// Create.
	res, _ := post(t, c, "/console/members", url.Values{"name": {"赵 六"}, "phone": {"139-1234-5678"}, "role": {"党员"}, "org_id": {idStr(guogou)}}, http.StatusSeeOther)
	m := member(t, e, "13912345678")
	if m.Name != "赵六" || m.OrgID != guogou || m.BindCode == nil || !m.Active {
		t.Fatalf("created %+v", m)
	}
	if loc := res.Header.Get("Location"); loc != "/console/members/"+idStr(m.ID) {
		t.Fatalf("after create: %s", loc)
	}
	es := audits(t, e, console.ActionCreate, "member", m.ID)
	if len(es) != 1 || es[0].Username != consoletest.Town || es[0].OrgPath != "洪雅县/花溪镇/郭沟村" ||
		snapshot(t, es[0].After)["phone"] != "13912345678" || es[0].Before != "" {
		t.Fatalf("create audit: %+v", es)
	}

	// The detail page shows the full phone number, the flash, and records the look.
	body = get(t, c, "/console/members/"+idStr(m.ID), http.StatusOK)
	if !strings.Contains(body, "13912345678") || !strings.Contains(body, "已新增 赵六") || !strings.Contains(body, *m.BindCode) {
		t.Fatalf("detail:\n%s", body)
	}
	if es := audits(t, e, console.ActionView, "member", m.ID); len(es) != 1 || es[0].Username != consoletest.Town {
		t.Fatalf("view audit: %+v", es)
	}

	// Edit name and role.
	get(t, c, "/console/members/"+idStr(m.ID)+"/edit", http.StatusOK)
	edit := url.Values{"name": {"赵小六"}, "phone": {"13912345678"}, "role": {"书记"}, "org_id": {idStr(guogou)}}
	post(t, c, "/console/members/"+idStr(m.ID), edit, http.StatusSeeOther)
	es = audits(t, e, console.ActionUpdate, "member", m.ID)
	if len(es) != 1 {
		t.Fatalf("update audits: %d", len(es))
	}
	before, after := snapshot(t, es[0].Before), snapshot(t, es[0].After)
	if before["name"] != "赵六" || after["name"] != "赵小六" || before["role"] != "党员" || after["role"] != "书记" {
		t.Fatalf("update audit: %s → %s", es[0].Before, es[0].After)
	}
	// Saving the same again changes nothing and records nothing.
	post(t, c, "/console/members/"+idStr(m.ID), edit, http.StatusSeeOther)
	if n := len(audits(t, e, console.ActionUpdate, "member", m.ID)); n != 1 {
		t.Fatalf("an unchanged save was audited (%d)", n)
	}
	// A bad edit keeps the input.
	_, body = post(t, c, "/console/members/"+idStr(m.ID), url.Values{"name": {"赵小六"}, "phone": {"13800000002"}, "role": {"书记"}, "org_id": {idStr(guogou)}}, http.StatusBadRequest)
	if !strings.Contains(body, "手机号已存在") || !strings.Contains(body, `value="13800000002"`) {
		t.Fatalf("bad edit:\n%s", body)
	}

	// Move.
	edit.Set("org_id", idStr(shuanghe))
	post(t, c, "/console/members/"+idStr(m.ID), edit, http.StatusSeeOther)
	if got := member(t, e, "13912345678"); got.OrgID != shuanghe {
		t.Fatalf("not moved: %d", got.OrgID)
	}
	es = audits(t, e, console.ActionMove, "member", m.ID)
	if len(es) != 1 || snapshot(t, es[0].Before)["org_path"] != "洪雅县/花溪镇/郭沟村" ||
		snapshot(t, es[0].After)["org_path"] != "洪雅县/花溪镇/双河村" || es[0].OrgPath != "洪雅县/花溪镇/双河村" {
		t.Fatalf("move audit: %+v", es)
	}

	// Deactivate a member who is bound and whose identity the bot has cached: the bot no longer
	// knows him, at once.
	ctx := context.Background()
	if _, err := e.App.Roster().Bind(ctx, "oa", "o-zhao", *m.BindCode); err != nil {
		t.Fatal(err)
	}
	rdb := e.App.Redis().Client
	if err := rdb.Set(ctx, kv.IdentityKey("oa", "o-zhao"), `{"ID":1}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	post(t, c, "/console/members/"+idStr(m.ID)+"/deactivate", nil, http.StatusSeeOther)
	if got := member(t, e, "13912345678"); got.Active {
		t.Fatal("still active")
	}
	if n, _ := rdb.Exists(ctx, kv.IdentityKey("oa", "o-zhao")).Result(); n != 0 {
		t.Fatal("the cached identity of a deactivated member was left")
	}
	if who, err := e.App.Roster().MemberByOpenID(ctx, "oa", "o-zhao"); err != nil || who != nil {
		t.Fatalf("the bot still knows a deactivated member: %+v %v", who, err)
	}
	es = audits(t, e, console.ActionDeactivate, "member", m.ID)
	if len(es) != 1 || snapshot(t, es[0].Before)["active"] != true || snapshot(t, es[0].After)["active"] != false {
		t.Fatalf("deactivate audit: %+v", es)
	}
	body = get(t, c, "/console/members/"+idStr(m.ID), http.StatusOK)
	if !strings.Contains(body, "已停用") || !strings.Contains(body, "/activate") {
		t.Fatalf("deactivated detail:\n%s", body)
	}

	// Reactivate.
	post(t, c, "/console/members/"+idStr(m.ID)+"/activate", nil, http.StatusSeeOther)
	if got := member(t, e, "13912345678"); !got.Active {
		t.Fatal("not reactivated")
	}
	if es := audits(t, e, console.ActionActivate, "member", m.ID); len(es) != 1 || snapshot(t, es[0].After)["active"] != true {
		t.Fatalf("activate audit: %+v", es)
	}

	// A new bind code for an unbound member replaces the old one; a bound member has none to replace.
	other := member(t, e, "13800000007")
	post(t, c, "/console/members/"+idStr(other.ID)+"/bindcode", nil, http.StatusSeeOther)
	if got := member(t, e, "13800000007"); got.BindCode == nil || *got.BindCode == *other.BindCode {
		t.Fatalf("bind code not replaced: %v", got.BindCode)
	}
	if es := audits(t, e, console.ActionUpdate, "member", other.ID); len(es) != 1 || !strings.Contains(es[0].Summary, "绑定码") {
		t.Fatalf("bind code audit: %+v", es)
	}
	// A member bound on one channel gets a code for the other (the mini-program); bound on both, none.
	post(t, c, "/console/members/"+idStr(m.ID)+"/bindcode", nil, http.StatusSeeOther)
	if got := member(t, e, "13912345678"); got.BindCode == nil {
		t.Fatal("no code for the mini-program of a member bound on the official account")
	}
	e.App.DB().Table("members").Where("id = ?", m.ID).Update("mp_open_id", "o-mp-test")
	post(t, c, "/console/members/"+idStr(m.ID)+"/bindcode", nil, http.StatusBadRequest)
}
