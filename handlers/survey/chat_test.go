package survey_test

import (
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestChatSurveyEndToEnd answers a survey in the chat: the list, the skip logic (question 2 only after
// 不满意), wrong answers re-asked with a hint, going back and changing an answer (which hides question
// 2 again), pausing and resuming, skipping an optional question, and the submitted response.
func TestChatSurveyEndToEnd(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	sv := createSurvey(t, e, map[string]any{"title": "道路满意度", "org_id": orgID(t, db, "洪雅县/花溪镇"), "questions_text": roadSurvey})
	e.BindAs("o-wang", "王德明")

	// The demo county's survey is open too: a list, ours first (its deadline is sooner).
	chat(t, e, "o-wang", "问卷", "待填写的问卷", "1. 《道路满意度》", "回复序号")
	chat(t, e, "o-wang", "1", "《道路满意度》共5题", "第1题/共5题", "1. 满意", "3. 不满意")
	chat(t, e, "o-wang", "4", "没有第4个选项")
	chat(t, e, "o-wang", "好的吧", "请回复选项前的序号")
	chat(t, e, "o-wang", "3", "第2题/共5题", "最希望改善", "选1-2项")
	chat(t, e, "o-wang", "1 2 3", "最多选 2 项")
	chat(t, e, "o-wang", "13", "第3题/共5题", "1-5")

	// Back to question 2: his answer shows; back again to question 1, where 满意 hides question 2.
	chat(t, e, "o-wang", "上一题", "第2题/共5题", "已答：路灯；绿化")
	chat(t, e, "o-wang", "上一题", "第1题/共5题", "已答：不满意")
	chat(t, e, "o-wang", "上一题", "已经是第一题了", "第1题/共5题")
	chat(t, e, "o-wang", "1", "第3题/共5题")

	// Paused, then resumed where he was, from the draft.
	chat(t, e, "o-wang", "暂停", "已保存")
	chat(t, e, "o-wang", "问卷", "1. 《道路满意度》截止", "已答")
	chat(t, e, "o-wang", "1", "接着上次的进度", "第3题/共5题")

	chat(t, e, "o-wang", "6", "请打 1-5 分")
	chat(t, e, "o-wang", "4分", "第4题/共5题", "0~20")
	chat(t, e, "o-wang", "30", "请填 0~20 之间的数字")
	chat(t, e, "o-wang", "3", "第5题/共5题", "跳过")
	chat(t, e, "o-wang", "跳过", "✅ 问卷《道路满意度》已提交")

	// One member, one response: the survey is no longer waiting for him.
	if got := chat(t, e, "o-wang", "问卷"); strings.Contains(got, "道路满意度") {
		t.Fatalf("the finished survey is offered again: %q", got)
	}

	// What was kept: 满意, no answer to the hidden question 2 (it was answered, then hidden), 4, 3.
	var resp models.SurveyResponse
	if err := db.Where("survey_id = ? AND member_id = ?", sv.ID, memberID(t, db, "王德明")).Take(&resp).Error; err != nil {
		t.Fatal(err)
	}
	var ans []models.SurveyAnswer
	db.Where("response_id = ?", resp.ID).Order("question_id, pos").Find(&ans)
	got := map[uint]string{}
	for _, a := range ans {
		v := a.Text
		if a.Num != nil {
			v = "n"
		}
		if a.Choice != 0 {
			v = string(rune('0' + a.Choice))
		}
		got[a.QuestionID] += v
	}
	q := func(seq int) uint { return sv.Questions[seq-1].ID }
	if !resp.Done || got[q(1)] != "1" || got[q(2)] != "" || got[q(3)] != "4" || got[q(4)] != "n" || len(ans) != 3 {
		t.Fatalf("response %+v answers %v", resp, got)
	}
	res := getSurvey(t, e, consoletest.County, sv.ID)
	if res.Results.Finished != 1 || res.Results.Questions[0].Options[0].N != 1 || res.Results.Questions[1].Answered != 0 {
		t.Fatalf("results: %+v", res.Results)
	}
	// The broadcast carried it: the delivery row of 王德明 (once expanded) is marked answered; here the
	// broadcast row itself is checked.
	var b models.Broadcast
	if err := db.Where("kind = ? AND payload = ?", models.BroadcastSurvey, `{"survey_id":`+itoa(sv.ID)+`}`).Take(&b).Error; err != nil {
		t.Fatalf("the survey's broadcast: %v", err)
	}
	if b.OrgPath != "洪雅县/花溪镇" || b.Status != models.BroadcastScheduled || !strings.Contains(b.Text, "问卷") {
		t.Fatalf("broadcast %+v", b)
	}
}

// TestChatOtherCommandsPass: while a question waits, another keyword is answered by its own route and
// the question keeps waiting; a member outside the audience gets no survey.
func TestChatOtherCommandsPass(t *testing.T) {
	e := consoletest.New(t)
	db := e.App.DB()
	createSurvey(t, e, map[string]any{"title": "郭沟村问卷", "org_id": orgID(t, db, guogou), "roles": []string{"党员"}, "questions_text": "填空* 你的建议"})
	e.BindAs("o-liu", "刘桂兰")
	chat(t, e, "o-liu", "问卷", "待填写的问卷")
	chat(t, e, "o-liu", "1", "第1题/共1题")
	if got := chat(t, e, "o-liu", "帮助"); strings.Contains(got, "已提交") {
		t.Fatalf("帮助 was taken for an answer: %q", got)
	}
	chat(t, e, "o-liu", "多修几盏路灯", "已提交")

	// 李秀英 is the aide: the 党员-only survey is not hers; the demo one is her only one, started at once.
	e.BindAs("o-li", "李秀英")
	if got := chat(t, e, "o-li", "问卷"); strings.Contains(got, "郭沟村问卷") || !strings.Contains(got, "村庄人居环境") {
		t.Fatalf("the aide's surveys: %q", got)
	}
}
