package attendance_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxclient"
	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/internal/testenv"
	"github.com/yanzhen/yanzhen/models"
)

// The demo county's first village and its people (handlers/roster/demo.go): 张国华 is its 书记,
// 李秀英 its 党建专干, 王德明 and 刘桂兰 党员.
const (
	village   = "洪雅县/花溪镇/郭沟村"
	placeName = "郭沟村村委会"
)

// metresPerDegree is one degree of latitude on the sphere the service measures on.
const metresPerDegree = 6371008.8 * 3.141592653589793 / 180

// chat is a bound WeChat user of a running server.
type chat struct {
	t      *testing.T
	e      *consoletest.Env
	c      *wxclient.Client
	openID string
	member models.Member
}

func newChat(t *testing.T, e *consoletest.Env, openID, name string) *chat {
	t.Helper()
	e.BindAs(openID, name)
	ch := &chat{t: t, e: e, c: e.OA(), openID: openID}
	if err := e.App.DB().Preload("Org").Where("name = ?", name).Take(&ch.member).Error; err != nil {
		t.Fatal(err)
	}
	return ch
}

func (ch *chat) send(m *wxclient.Message) string {
	ch.t.Helper()
	// Events are told apart by their CreateTime (seconds): never two in one second of the test clock.
	ch.e.Clock.Add(time.Second)
	return ch.e.Send(m)
}

func (ch *chat) text(s string) string { ch.t.Helper(); return ch.send(ch.c.Text(ch.openID, s)) }

// at sends a location message d metres north of the village's place.
func (ch *chat) at(d float64) string {
	ch.t.Helper()
	p := demoPlace(ch.t, ch.e)
	return ch.send(ch.c.Location(ch.openID, p.Lat+d/metresPerDegree, p.Lng, 15, "这里"))
}

// event sends a LOCATION event d metres north of the village's place.
func (ch *chat) event(d, precision float64) string {
	ch.t.Helper()
	p := demoPlace(ch.t, ch.e)
	return ch.send(ch.c.LocationEvent(ch.openID, p.Lat+d/metresPerDegree, p.Lng, precision))
}

// checkIns are the member's check-ins, oldest first.
func (ch *chat) checkIns() []models.CheckIn {
	ch.t.Helper()
	var cs []models.CheckIn
	if err := ch.e.App.DB().Where("member_id = ?", ch.member.ID).Order("at, id").Find(&cs).Error; err != nil {
		ch.t.Fatal(err)
	}
	return cs
}

// demoPlace is the demo village's check-in place.
func demoPlace(t *testing.T, e *consoletest.Env) models.CheckPlace {
	t.Helper()
	var p models.CheckPlace
	if err := e.App.DB().Where("name = ?", placeName).Take(&p).Error; err != nil {
		t.Fatalf("the demo place: %v", err)
	}
	return p
}

// service is the attendance service on the server's database and clock (for the status job).
func service(t *testing.T, e *consoletest.Env) *attendance.Service {
	t.Helper()
	s := attendance.New(attendance.Options{DB: e.App.DB(), Log: testenv.Logger(), Now: e.Clock.Now, Location: e.App.Config().Location})
	t.Cleanup(s.Close)
	return s
}

// dayOf is a member's computed status of a day.
func dayOf(t *testing.T, e *consoletest.Env, memberID uint, day string) models.AttendanceDay {
	t.Helper()
	var d models.AttendanceDay
	if err := e.App.DB().Where("member_id = ? AND day = ?", memberID, day).Take(&d).Error; err != nil {
		t.Fatalf("status of member %d on %s: %v", memberID, day, err)
	}
	return d
}

// setClock moves the server's clock on to hh:mm of day (Asia/Shanghai); never back.
func setClock(t *testing.T, e *consoletest.Env, day, hhmm string) {
	t.Helper()
	target, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, e.App.Config().Location)
	if err != nil {
		t.Fatal(err)
	}
	if d := target.Sub(e.Clock.Now()); d < 0 {
		t.Fatalf("the clock is at %s, past %s %s", e.Clock.Now(), day, hhmm)
	} else {
		e.Clock.Add(d)
	}
}

// mpLogin logs a mini-program user in and binds him to the named member; it returns his token.
func mpLogin(t *testing.T, e *consoletest.Env, openID, name string) string {
	t.Helper()
	e.Fake.AddSession("code-"+openID, openID, "union-"+openID)
	var login struct {
		Token string `json:"token"`
	}
	if st, body := e.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": "code-" + openID}, &login); st != http.StatusOK {
		t.Fatalf("mp login: %d %s", st, body)
	}
	var code string
	if err := e.App.DB().Table("members").Where("name = ?", name).Select("bind_code").Row().Scan(&code); err != nil {
		t.Fatal(err)
	}
	if st, body := e.API(login.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": code}, nil); st != http.StatusOK {
		t.Fatalf("mp bind: %d %s", st, body)
	}
	return login.Token
}

func count(t *testing.T, e *consoletest.Env, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.App.DB().Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
