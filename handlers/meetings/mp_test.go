package meetings_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// mpMember logs a mini-program user in and binds him to the demo member with this name; it returns
// his session token.
func mpMember(t *testing.T, e *consoletest.Env, name string) string {
	t.Helper()
	e.Fake.AddSession("code-"+name, "mp-"+name, "union-"+name)
	var login struct {
		Token string `json:"token"`
	}
	if st, body := e.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": "code-" + name}, &login); st != http.StatusOK {
		t.Fatalf("mini-program login: %d %s", st, body)
	}
	var code string
	e.App.DB().Table("members").Where("name = ?", name).Select("bind_code").Row().Scan(&code)
	if st, body := e.API(login.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": code}, nil); st != http.StatusOK {
		t.Fatalf("mini-program bind: %d %s", st, body)
	}
	return login.Token
}

type mpErr struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// TestMiniProgram: a member's meetings in the mini-program, and check-in there with the code: wrong
// code, too early, in time, twice; another member not on the list.
func TestMiniProgram(t *testing.T) {
	e := consoletest.New(t)
	m := createMeeting(t, e, consoletest.Secretary, committee(e))
	wang := mpMember(t, e, "王德明")
	chen := mpMember(t, e, "陈志强")

	var list struct {
		Items []struct {
			ID     uint   `json:"id"`
			Type   string `json:"type"`
			Open   bool   `json:"checkin_open"`
			Status string `json:"status"`
			Code   string `json:"code"`
		} `json:"items"`
	}
	if st, body := e.API(wang, http.MethodGet, "/api/v1/mp/meetings", nil, &list); st != http.StatusOK {
		t.Fatalf("list: %d %s", st, body)
	} else if strings.Contains(body, m.Code) {
		t.Error("the mini-program's list gives the code away")
	}
	found := false
	for _, it := range list.Items {
		if it.ID == m.ID {
			found = it.Status == models.MeetingExpected && !it.Open
		}
	}
	if !found {
		t.Errorf("the member's list lacks the meeting, or shows it open: %+v", list)
	}
	if st, body := e.API(chen, http.MethodGet, "/api/v1/mp/meetings", nil, &list); st != http.StatusOK || strings.Contains(body, fmt.Sprintf(`"id":%d,`, m.ID)) {
		t.Errorf("a member of another village sees the meeting: %d %s", st, body)
	}

	path := fmt.Sprintf("/api/v1/mp/meetings/%d/checkin", m.ID)
	checkin := func(tok, code string) (int, mpErr, string) {
		st, body := e.API(tok, http.MethodPost, path, map[string]string{"code": code}, nil)
		var er mpErr
		json.Unmarshal([]byte(body), &er)
		return st, er, body
	}
	wrong := "111111"
	if wrong == m.Code {
		wrong = "222222"
	}
	for _, tc := range []struct {
		code, err string
		status    int
	}{
		{wrong, "wrong_code", http.StatusBadRequest},
		{"12ab", "bad_code", http.StatusBadRequest},
		{"", "invalid", http.StatusBadRequest},
		{m.Code, "not_open", http.StatusConflict},
	} {
		if st, er, body := checkin(wang, tc.code); st != tc.status || er.Error != tc.err || er.Message == "" {
			t.Errorf("code %q: %d %s, want %d %s", tc.code, st, body, tc.status, tc.err)
		}
	}
	setClock(e, at(e, 11, 21, 14, 20))
	var ok struct {
		Status  string `json:"status"`
		Rank    int    `json:"rank"`
		Message string `json:"message"`
	}
	if st, body := e.API(wang, http.MethodPost, path, map[string]string{"code": m.Code}, &ok); st != http.StatusOK ||
		ok.Status != models.MeetingPresent || ok.Rank != 1 || !strings.HasPrefix(ok.Message, "签到成功") {
		t.Fatalf("check-in: %d %s", st, body)
	}
	if st, er, _ := checkin(wang, m.Code); st != http.StatusConflict || er.Error != "already_checked_in" || er.Message != "你已经签到过了（14:20）。" {
		t.Errorf("twice: %d %+v", st, er)
	}
	if st, er, _ := checkin(chen, m.Code); st != http.StatusNotFound || er.Message != "你不在这次会议的参会名单里，如有疑问请联系书记。" {
		t.Errorf("not expected: %d %+v", st, er)
	}
	if st, _, _ := checkin(wang, "x"); st != http.StatusBadRequest {
		t.Errorf("bad body after check-in: %d", st)
	}
	if st, _ := e.API(wang, http.MethodPost, "/api/v1/mp/meetings/999999/checkin", map[string]string{"code": m.Code}, nil); st != http.StatusNotFound {
		t.Errorf("no such meeting: %d", st)
	}
	got := getMeeting(t, e, m.ID)
	for _, a := range got.Attendees {
		if a.Name == "王德明" && (a.Status != models.MeetingPresent || a.Source != models.MeetingSourceMP) {
			t.Errorf("the mini-program check-in: %+v", a)
		}
	}
	// A console token is no mini-program session.
	if st, _ := e.API(e.Token(consoletest.Secretary), http.MethodGet, "/api/v1/mp/meetings", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("a console token on the mini-program API: %d", st)
	}
}
