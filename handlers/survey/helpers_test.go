package survey_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// The demo villages (see handlers/roster's demo): 郭沟村 has 张国华 书记, 李秀英 党建专干, 王德明 and
// 刘桂兰 党员; 双河村 陈志强 书记, 杨丽华, 赵永福.
const (
	guogou   = "洪雅县/花溪镇/郭沟村"
	shuanghe = "洪雅县/花溪镇/双河村"
)

// roadSurvey has skip logic: question 2 is asked only when question 1's answer is 3 (不满意).
const roadSurvey = `单选* 您对村里的道路满意吗？
- 满意
- 一般
- 不满意
多选(1-2)* 最希望改善哪些方面？[第1题选3]
- 路灯
- 排水
- 绿化
评分* 给村务公开打分
数字(0-20) 家里常住几口人？
填空 其他建议`

type surveyOut struct {
	ID        uint   `json:"id"`
	Status    string `json:"status"`
	Anonymous bool   `json:"anonymous"`
	Questions []struct {
		ID  uint `json:"id"`
		Seq int  `json:"seq"`
	} `json:"questions"`
	Results *struct {
		Audience  int64 `json:"audience"`
		Finished  int64 `json:"finished"`
		Questions []struct {
			Seq      int   `json:"seq"`
			Answered int64 `json:"answered"`
			Options  []struct {
				Value int   `json:"value"`
				N     int64 `json:"n"`
			} `json:"options"`
			Texts []string `json:"texts"`
		} `json:"questions"`
	} `json:"results"`
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

// createSurvey makes and sends a survey through the API as the county administrator.
func createSurvey(t testing.TB, e *consoletest.Env, body map[string]any) surveyOut {
	t.Helper()
	tok := e.Token(consoletest.County)
	if _, ok := body["deadline"]; !ok {
		body["deadline"] = e.Clock.Now().Add(48 * time.Hour)
	}
	var out surveyOut
	if st, resp := e.API(tok, http.MethodPost, "/api/v1/surveys", body, &out); st != http.StatusCreated {
		t.Fatalf("create survey: %d %s", st, resp)
	}
	if st, resp := e.API(tok, http.MethodPost, "/api/v1/surveys/"+itoa(out.ID)+"/send", nil, nil); st != http.StatusOK {
		t.Fatalf("send survey: %d %s", st, resp)
	}
	return out
}

// getSurvey reads a survey with its results through the API as a console user.
func getSurvey(t testing.TB, e *consoletest.Env, user string, id uint) surveyOut {
	t.Helper()
	var out surveyOut
	if st, resp := e.API(e.Token(user), http.MethodGet, "/api/v1/surveys/"+itoa(id), nil, &out); st != http.StatusOK {
		t.Fatalf("get survey %d: %d %s", id, st, resp)
	}
	return out
}

func itoa(id uint) string {
	if id == 0 {
		return "0"
	}
	var b []byte
	for id > 0 {
		b = append([]byte{byte('0' + id%10)}, b...)
		id /= 10
	}
	return string(b)
}

// chat sends a text as openID and checks that the reply contains every want.
func chat(t *testing.T, e *consoletest.Env, openID, text string, want ...string) string {
	t.Helper()
	got := e.Send(e.OA().Text(openID, text))
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%q → %q\nwant it to contain %q", text, got, w)
		}
	}
	return got
}
