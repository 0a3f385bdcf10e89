package meetings_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The demo village the tests hold meetings in, and its neighbour (same town, another secretary).
const (
	guogou   = "洪雅县/花溪镇/郭沟村" // 张国华 书记, 李秀英 党建专干, 王德明 党员, 刘桂兰 党员
	shuanghe = "洪雅县/花溪镇/双河村" // 陈志强 书记, 杨丽华, 赵永福
)

// at is a time on the test clock's calendar (YANZHEN_TZ).
func at(e *consoletest.Env, month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, e.App.Config().Location)
}

// setClock moves the server's clock to t (tests only move it forward).
func setClock(e *consoletest.Env, t time.Time) {
	e.Clock.Add(t.Sub(e.Clock.Now()))
}

func orgID(t testing.TB, db *gorm.DB, path string) uint {
	t.Helper()
	var o models.Org
	if err := db.Where("path = ?", path).Take(&o).Error; err != nil {
		t.Fatalf("org %s: %v", path, err)
	}
	return o.ID
}

func memberID(t testing.TB, db *gorm.DB, name string) uint {
	t.Helper()
	var m models.Member
	if err := db.Where("name = ?", name).Take(&m).Error; err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return m.ID
}

// meetingOut is the API's meeting, as much as tests read of it.
type meetingOut struct {
	ID          uint   `json:"id"`
	Code        string `json:"code"`
	BackEntered bool   `json:"back_entered"`
	Phase       string `json:"phase"`
	Expected    int    `json:"expected"`
	Present     int    `json:"present"`
	Late        int    `json:"late"`
	Excused     int    `json:"excused"`
	Absent      int    `json:"absent"`
	Attendees   []struct {
		MemberID uint       `json:"member_id"`
		Name     string     `json:"name"`
		Status   string     `json:"status"`
		At       *time.Time `json:"checked_in_at"`
		Source   string     `json:"source"`
		Note     string     `json:"note"`
	} `json:"attendees"`
}

// status is an attendee's status in the API's answer.
func (m *meetingOut) status(name string) string {
	for _, a := range m.Attendees {
		if a.Name == name {
			return a.Status
		}
	}
	return "(not expected)"
}

// createMeeting makes a meeting through the API as the user (a console login) and fails the test
// when that does not work.
func createMeeting(t testing.TB, e *consoletest.Env, user string, body map[string]any) meetingOut {
	t.Helper()
	var out meetingOut
	if st, resp := e.API(e.Token(user), http.MethodPost, "/api/v1/meetings", body, &out); st != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", st, resp)
	}
	return out
}

// getMeeting reads a meeting through the API as the county administrator.
func getMeeting(t testing.TB, e *consoletest.Env, id uint) meetingOut {
	t.Helper()
	var out meetingOut
	if st, resp := e.API(e.Token(consoletest.County), http.MethodGet, "/api/v1/meetings/"+itoa(id), nil, &out); st != http.StatusOK {
		t.Fatalf("get meeting %d: %d %s", id, st, resp)
	}
	return out
}

func itoa(id uint) string {
	b := []byte{}
	if id == 0 {
		return "0"
	}
	for id > 0 {
		b = append([]byte{byte('0' + id%10)}, b...)
		id /= 10
	}
	return string(b)
}

// committee is tomorrow afternoon's committee meeting of 郭沟村 (11-21 14:30–16:00), every member
// expected.
func committee(e *consoletest.Env) map[string]any {
	return map[string]any{"org_id": orgID(e.T, e.App.DB(), guogou), "type": models.MeetingCommittee, "title": "研究冬季防火",
		"place": "村委会会议室", "start_at": at(e, 11, 21, 14, 30), "end_at": at(e, 11, 21, 16, 0)}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
