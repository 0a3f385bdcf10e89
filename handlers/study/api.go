package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/models"
)

// The mini-program's study API, under /api/v1/mp/study behind mp.Service.Auth (server/openapi/
// mp_study.json documents it): today's task with all its questions, answers to one or all of them in
// one call (scored by AnswerAll, the chat's own code), the member's history, wrong-answer book, figures
// and boards.

// API texts.
const (
	textMPSBadJSON     = "请求内容不是有效的 JSON。"
	textMPSNoAnswers   = "请至少提交一道题的答案。"
	textMPSTooMany     = "一次最多提交%d道题的答案。"
	textMPSNoQuestion  = "第%d个答案缺少题目编号 question_id。"
	textMPSTwice       = "题目 %d 的答案提交了两次。"
	textMPSTooLong     = "第%d个答案太长（最多%d个字）。"
	textMPSBadDay      = "日期应为 2006-01-02 的格式。"
	textMPSNoTaskDay   = "%s 没有你的学习任务。"
	textMPSNotInTask   = "题目 %d 不在%s的学习任务里。"
	textMPSNotAnAnswer = "题目 %d（%s）的答案「%s」看不懂：%s"
	textMPSClosed      = "这一天的学习已经结束，不能再答题了。请刷新，做今天的题目。"
	textMPSInternal    = "出错了，请稍后再试。"
	textMPSPage        = "%s 应为正整数。"
)

// API limits.
const (
	mpsPerPage        = 20
	mpsMaxPerPage     = 100
	mpsMaxAnswerRunes = 200
	mpsMaxBody        = 64 << 10
)

// The API's shapes.

type mpsError struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	QuestionID uint   `json:"question_id,omitempty"` // the answer at fault
}

type mpsOption struct {
	Letter string `json:"letter"`
	Text   string `json:"text"`
}

type mpsItem struct {
	ID       uint        `json:"id"`
	Type     string      `json:"type"`
	Stem     string      `json:"stem"`
	Options  []mpsOption `json:"options"`
	Review   bool        `json:"review"`
	Remedial bool        `json:"remedial"`
	Answered bool        `json:"answered"`
	// Answered questions only.
	Given       *string `json:"given,omitempty"`
	Correct     *bool   `json:"correct,omitempty"`
	Answer      *string `json:"answer,omitempty"`
	Explanation *string `json:"explanation,omitempty"`
}

type mpsProgress struct {
	Answered int `json:"answered"`
	Right    int `json:"right"`
	Total    int `json:"total"`
}

type mpsSummary struct {
	Right       int     `json:"right"`
	Total       int     `json:"total"`
	Points      int     `json:"points"`
	Bonus       int     `json:"bonus"`
	Streak      int     `json:"streak"`
	YearMinutes int     `json:"year_minutes"`
	YearHours   float64 `json:"year_hours"`
	TargetHours int     `json:"target_hours"`
}

type mpsToday struct {
	Day       string      `json:"day"`
	Items     []mpsItem   `json:"items"`
	Progress  mpsProgress `json:"progress"`
	Completed bool        `json:"completed"`
	Summary   *mpsSummary `json:"summary,omitempty"`
}

type mpsAnswerInput struct {
	QuestionID uint   `json:"question_id"`
	Answer     string `json:"answer"`
}

type mpsAnswersInput struct {
	Day     string           `json:"day"`
	Answers []mpsAnswerInput `json:"answers"`
}

type mpsResult struct {
	QuestionID  uint   `json:"question_id"`
	Correct     bool   `json:"correct"`
	Given       string `json:"given"`
	Answer      string `json:"answer"`
	Explanation string `json:"explanation"`
	Duplicate   bool   `json:"duplicate"`
	Review      bool   `json:"review"`
	Mastered    bool   `json:"mastered"`
}

type mpsAnswers struct {
	Day       string      `json:"day"`
	Results   []mpsResult `json:"results"`
	Progress  mpsProgress `json:"progress"`
	Completed bool        `json:"completed"`
	Summary   *mpsSummary `json:"summary,omitempty"`
}

type mpsDay struct {
	Day       string `json:"day"`
	Right     int    `json:"right"`
	Answered  int    `json:"answered"`
	Total     int    `json:"total"`
	Points    int    `json:"points"`
	Completed bool   `json:"completed"`
}

type mpsList[T any] struct {
	Items   []T   `json:"items"`
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
}

type mpsQuestion struct {
	ID          uint        `json:"id"`
	Type        string      `json:"type"`
	Stem        string      `json:"stem"`
	Options     []mpsOption `json:"options"`
	Answer      string      `json:"answer"`
	Explanation string      `json:"explanation"`
}

type mpsWrong struct {
	Question  mpsQuestion `json:"question"`
	Misses    int         `json:"misses"`
	Stage     int         `json:"stage"`
	DueDay    string      `json:"due_day"`
	LastWrong string      `json:"last_wrong"`
}

type mpsStats struct {
	Year        int     `json:"year"`
	Points      int     `json:"points"`
	YearPoints  int     `json:"year_points"`
	Streak      int     `json:"streak"`
	BestStreak  int     `json:"best_streak"`
	DoneToday   bool    `json:"done_today"`
	YearMinutes int     `json:"year_minutes"`
	YearHours   float64 `json:"year_hours"`
	TargetHours int     `json:"target_hours"`
	YearAnswers int     `json:"year_answers"`
	YearRight   int     `json:"year_right"`
	Accuracy    int     `json:"accuracy"` // percent of this year's answers; 0 without any
}

type mpsBoardLine struct {
	Rank   int    `json:"rank"`
	Name   string `json:"name"`
	Points int    `json:"points"`
	Me     bool   `json:"me"`
}

type mpsOrgBoard struct {
	OrgID   uint           `json:"org_id"`
	OrgName string         `json:"org_name"`
	Rank    int            `json:"rank"` // his place; 0 while he is not on it
	Top     []mpsBoardLine `json:"top"`
}

type mpsBoard struct {
	Ranking    bool           `json:"ranking"`
	Year       int            `json:"year"`
	YearPoints int            `json:"year_points"`
	Points     int            `json:"points"`
	Boards     *[]mpsOrgBoard `json:"boards,omitempty"` // only while ranking is on
}

// mpsMember is the member behind a call; nil (and a 500 answered) when the route was not put behind
// mp.Service.Auth.
func (s *Service) mpsMember(c *gin.Context) *bot.Member {
	m := mp.MemberOf(c)
	if m == nil {
		s.mpsFail(c, errors.New("study: mini-program route without mp.Service.Auth"))
	}
	return m
}

// MPToday: GET /api/v1/mp/study/today → today's task with every question (made now when the
// morning's publishing has not reached him), what he answered so far and, when done, the summary.
func (s *Service) MPToday(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	sh, err := s.TodaySheet(c.Request.Context(), m.ID)
	switch {
	case errors.Is(err, ErrNoQuestions):
		mpsAbort(c, http.StatusNotFound, "no_questions", textNoQuestions, "", 0)
		return
	case err != nil:
		s.mpsFail(c, err)
		return
	}
	out := mpsToday{Day: sh.Day, Items: make([]mpsItem, len(sh.Items)),
		Progress: mpsProgress{Answered: sh.Answered, Right: sh.Right, Total: sh.Total}, Completed: sh.Summary != nil}
	for i := range sh.Items {
		out.Items[i] = mpsItemOf(&sh.Items[i])
	}
	if sh.Summary != nil {
		out.Summary = s.mpsSummaryOf(sh.Summary, m.Role)
	}
	c.JSON(http.StatusOK, out)
}

func mpsItemOf(it *SheetItem) mpsItem {
	q := &it.Question
	out := mpsItem{ID: q.ID, Type: q.Type, Stem: q.Stem, Options: mpsLettered(it.Options), Review: it.Review, Remedial: it.Remedial,
		Answered: it.Done}
	if it.Done {
		given, correct, answer, expl := it.Given, it.Correct, it.Answer, q.Explanation
		out.Given, out.Correct, out.Answer, out.Explanation = &given, &correct, &answer, &expl
	}
	return out
}

// mpsLettered are options with their letters: A, B, C, ... in the order given.
func mpsLettered(opts []string) []mpsOption {
	out := make([]mpsOption, len(opts))
	for i, o := range opts {
		out[i] = mpsOption{Letter: string(rune('A' + i)), Text: o}
	}
	return out
}

func (s *Service) mpsSummaryOf(sum *Summary, role string) *mpsSummary {
	return &mpsSummary{Right: sum.Right, Total: sum.Total, Points: sum.Points, Bonus: sum.Bonus, Streak: sum.Streak,
		YearMinutes: sum.YearMinutes, YearHours: mpsHours(sum.YearMinutes), TargetHours: s.HoursTarget(role)}
}

// mpsHours is minutes as hours rounded to one decimal, as the chat writes them (hours).
func mpsHours(minutes int) float64 {
	return float64((max(minutes, 0)*10+30)/60) / 10
}

// MPAnswer: POST /api/v1/mp/study/answers {"day": "2026-11-21", "answers": [{"question_id": 12,
// "answer": "BD"}, …]} scores one or many answers to questions of the day's task (day omitted:
// today's) in one go: every answer counts, or none when one is refused (400 naming it; 409 for a day
// that is over). An answer given before changes nothing and gets its first result.
func (s *Service) MPAnswer(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	ctx := c.Request.Context()
	var in mpsAnswersInput
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, mpsMaxBody))
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		mpsAbort(c, http.StatusBadRequest, "invalid", textMPSBadJSON, "", 0)
		return
	}
	if !mpsCheckInput(c, &in) {
		return
	}

	today := s.Today()
	var (
		sh  *Sheet
		err error
	)
	if in.Day == "" || in.Day == today {
		sh, err = s.TodaySheet(ctx, m.ID)
	} else {
		sh, err = s.SheetOf(ctx, m.ID, in.Day)
	}
	switch {
	case errors.Is(err, ErrNoQuestions):
		mpsAbort(c, http.StatusNotFound, "no_questions", textNoQuestions, "", 0)
		return
	case errors.Is(err, ErrNotFound):
		mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSNoTaskDay, in.Day), "day", 0)
		return
	case err != nil:
		s.mpsFail(c, err)
		return
	}

	items := make(map[uint]*SheetItem, len(sh.Items))
	for i := range sh.Items {
		items[sh.Items[i].Question.ID] = &sh.Items[i]
	}
	givens := make([]Given, len(in.Answers))
	for i, a := range in.Answers {
		it := items[a.QuestionID]
		if it == nil {
			s.mpsNotInTask(c, m.ID, in.Day == "", sh.Day, i, a.QuestionID)
			return
		}
		givens[i] = Given{QuestionID: a.QuestionID, Answer: a.Answer}
		if it.Done {
			continue // its first result comes back, whatever was sent now
		}
		if it.Question.Type == models.QuestionJudge {
			if w := judgeWord(a.Answer); w != "" {
				givens[i].Answer = w // the chat's words too: 对的, 不对, √ …
			}
		}
		if why := mpsMisfit(it, a.Answer); why != "" {
			mpsNotAnAnswer(c, i, it, a.Answer, why)
			return
		}
	}

	results, err := s.AnswerAll(ctx, m.ID, sh.TaskID, givens)
	var ae *AnswerError
	switch {
	case errors.As(err, &ae) && errors.Is(err, ErrTaskClosed):
		mpsAbort(c, http.StatusConflict, "task_closed", textMPSClosed, fmt.Sprintf("answers[%d].question_id", ae.Index), ae.QuestionID)
		return
	case errors.As(err, &ae) && errors.Is(err, ErrNotAnAnswer):
		mpsNotAnAnswer(c, ae.Index, items[ae.QuestionID], in.Answers[ae.Index].Answer, mpsHint(items[ae.QuestionID]))
		return
	case errors.As(err, &ae): // ErrNotFound: the task changed under us (it cannot, but say so plainly)
		mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSNotInTask, ae.QuestionID, mpsDayName(sh.Day, today)),
			fmt.Sprintf("answers[%d].question_id", ae.Index), ae.QuestionID)
		return
	case err != nil:
		s.mpsFail(c, err)
		return
	}
	last := results[len(results)-1]
	out := mpsAnswers{Day: sh.Day, Results: make([]mpsResult, len(results)),
		Progress: mpsProgress{Answered: last.Answered, Right: last.Right, Total: last.Total}, Completed: last.Summary != nil}
	for i, r := range results {
		out.Results[i] = mpsResult{QuestionID: r.QuestionID, Correct: r.Correct, Given: r.Given, Answer: r.Answer,
			Explanation: r.Explanation, Duplicate: r.Duplicate, Review: r.Review, Mastered: r.Mastered}
	}
	if last.Summary != nil {
		out.Summary = s.mpsSummaryOf(last.Summary, m.Role)
	}
	c.JSON(http.StatusOK, out)
}

// mpsCheckInput checks the body's form; otherwise it answers 400 and returns false.
func mpsCheckInput(c *gin.Context, in *mpsAnswersInput) bool {
	if in.Day != "" {
		if _, err := time.Parse(dayLayout, in.Day); err != nil {
			mpsAbort(c, http.StatusBadRequest, "invalid", textMPSBadDay, "day", 0)
			return false
		}
	}
	switch {
	case len(in.Answers) == 0:
		mpsAbort(c, http.StatusBadRequest, "invalid", textMPSNoAnswers, "answers", 0)
		return false
	case len(in.Answers) > maxQuestionsPerTask:
		mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSTooMany, maxQuestionsPerTask), "answers", 0)
		return false
	}
	seen := make(map[uint]bool, len(in.Answers))
	for i, a := range in.Answers {
		switch {
		case a.QuestionID == 0:
			mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSNoQuestion, i+1), fmt.Sprintf("answers[%d].question_id", i), 0)
			return false
		case seen[a.QuestionID]:
			mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSTwice, a.QuestionID), fmt.Sprintf("answers[%d].question_id", i), a.QuestionID)
			return false
		case utf8.RuneCountInString(a.Answer) > mpsMaxAnswerRunes:
			mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSTooLong, i+1, mpsMaxAnswerRunes), fmt.Sprintf("answers[%d].answer", i), a.QuestionID)
			return false
		}
		seen[a.QuestionID] = true
	}
	return true
}

// mpsMisfit says why given cannot be an answer to a choice question as the member sees it (a letter
// that is no option, several letters to a 单选), as the chat hints; "" when it may be one. Whether it
// is an answer at all is the scoring's word (ErrNotAnAnswer).
func mpsMisfit(it *SheetItem, given string) string {
	kind := it.Question.Type
	if kind != models.QuestionSingle && kind != models.QuestionMulti {
		return ""
	}
	ls := letters(given)
	if ls == "" {
		return mpsHint(it)
	}
	for _, l := range ls {
		if int(l-'A') >= len(it.Options) {
			return fmt.Sprintf("没有选项 %c（只有 A–%c）", l, 'A'+len(it.Options)-1)
		}
	}
	if kind == models.QuestionSingle && len(ls) > 1 {
		return textHintSingle
	}
	return ""
}

// mpsHint is how a question of its kind is answered.
func mpsHint(it *SheetItem) string {
	switch it.Question.Type {
	case models.QuestionSingle:
		return "单选题请填一个选项字母，如 A"
	case models.QuestionMulti:
		return "多选题请填所有正确选项的字母，如 BD"
	case models.QuestionJudge:
		return "判断题请填「对」或「错」"
	}
	return "填空题请填所填的文字"
}

// mpsNotAnAnswer answers 400 naming the answer at fault (the i-th, to it) and how to answer.
func mpsNotAnAnswer(c *gin.Context, i int, it *SheetItem, given, why string) {
	mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSNotAnAnswer, it.Question.ID, it.Question.Type, mpsClip(given, 20), why),
		fmt.Sprintf("answers[%d].answer", i), it.Question.ID)
}

// mpsNotInTask answers an answer to a question that is not in the day's task: 409 when the day was left
// to the server and the question is one of an earlier task of his (the mini-program kept yesterday's
// page open past midnight), 400 otherwise.
func (s *Service) mpsNotInTask(c *gin.Context, memberID uint, dayOmitted bool, day string, i int, questionID uint) {
	field := fmt.Sprintf("answers[%d].question_id", i)
	if dayOmitted {
		earlier, err := s.mpsInEarlierTask(c.Request.Context(), memberID, day, questionID)
		if err != nil {
			s.mpsFail(c, err)
			return
		}
		if earlier {
			mpsAbort(c, http.StatusConflict, "task_closed", textMPSClosed, field, questionID)
			return
		}
	}
	mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSNotInTask, questionID, mpsDayName(day, s.Today())), field, questionID)
}

// mpsInEarlierTask reports whether the question is in the member's last task before day.
func (s *Service) mpsInEarlierTask(ctx context.Context, memberID uint, day string, questionID uint) (bool, error) {
	var ts []models.StudyTask
	if err := s.db.WithContext(ctx).Select("id, items").Where("member_id = ? AND day < ?", memberID, day).
		Order("day DESC").Limit(1).Find(&ts).Error; err != nil {
		return false, fmt.Errorf("study: earlier task of member %d: %w", memberID, err)
	}
	if len(ts) == 0 {
		return false, nil
	}
	items, err := decodeItems(ts[0].Items)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if it.Q == questionID {
			return true, nil
		}
	}
	return false, nil
}

func mpsDayName(day, today string) string {
	if day == today {
		return "今天"
	}
	return " " + day + " "
}

func mpsClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return truncateRunes(s, n) + "…"
}

// MPHistory: GET /api/v1/mp/study/history?page=&per_page= → his tasks up to today, newest first.
func (s *Service) MPHistory(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	page, perPage, ok := mpsPage(c)
	if !ok {
		return
	}
	ts, total, err := s.History(c.Request.Context(), m.ID, (page-1)*perPage, perPage)
	if err != nil {
		s.mpsFail(c, err)
		return
	}
	out := mpsList[mpsDay]{Items: make([]mpsDay, len(ts)), Total: total, Page: page, PerPage: perPage}
	for i, t := range ts {
		out.Items[i] = mpsDay{Day: t.Day, Right: t.RightAnswers, Answered: t.Answered, Total: t.Total, Points: t.Points,
			Completed: t.CompletedAt != nil}
	}
	c.JSON(http.StatusOK, out)
}

// MPWrong: GET /api/v1/mp/study/wrong?page=&per_page= → his wrong-answer book, the questions due
// first, with their right answers and explanations (options and letters in the bank's order).
func (s *Service) MPWrong(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	page, perPage, ok := mpsPage(c)
	if !ok {
		return
	}
	ws, total, err := s.WrongBook(c.Request.Context(), m.ID, (page-1)*perPage, perPage)
	if err != nil {
		s.mpsFail(c, err)
		return
	}
	out := mpsList[mpsWrong]{Items: make([]mpsWrong, len(ws)), Total: total, Page: page, PerPage: perPage}
	for i := range ws {
		w := &ws[i]
		q := &w.Question
		var opts []string
		if q.Type == models.QuestionSingle || q.Type == models.QuestionMulti {
			opts = s.bank.Options(q)
		}
		out.Items[i] = mpsWrong{
			Question: mpsQuestion{ID: q.ID, Type: q.Type, Stem: q.Stem, Options: mpsLettered(opts),
				Answer: shownAnswer(q, nil, q.Answer), Explanation: q.Explanation},
			Misses: w.Misses, Stage: w.Stage, DueDay: w.DueDay, LastWrong: w.LastWrong,
		}
	}
	c.JSON(http.StatusOK, out)
}

// mpsPage reads ?page= (1 when absent) and ?per_page= (mpsPerPage when absent, at most mpsMaxPerPage);
// otherwise it answers 400 and returns false.
func mpsPage(c *gin.Context) (page, perPage int, ok bool) {
	page, perPage = 1, mpsPerPage
	for _, p := range []struct {
		name string
		v    *int
	}{{"page", &page}, {"per_page", &perPage}} {
		raw := c.Query(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			mpsAbort(c, http.StatusBadRequest, "invalid", fmt.Sprintf(textMPSPage, p.name), p.name, 0)
			return 0, 0, false
		}
		*p.v = n
	}
	return page, min(perPage, mpsMaxPerPage), true
}

// MPStats: GET /api/v1/mp/study/stats → his points, streak, training hours toward his target and
// accuracy this year.
func (s *Service) MPStats(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	ms, err := s.Stats(c.Request.Context(), m.ID)
	if err != nil {
		s.mpsFail(c, err)
		return
	}
	out := mpsStats{Year: ms.Year, Points: ms.Points, YearPoints: ms.YearPoints, Streak: ms.Streak, BestStreak: ms.BestStreak,
		DoneToday: ms.DoneToday, YearMinutes: ms.YearMinutes, YearHours: mpsHours(ms.YearMinutes), TargetHours: ms.TargetHours,
		YearAnswers: ms.YearAnswers, YearRight: ms.YearRight}
	if ms.YearAnswers > 0 {
		out.Accuracy = ms.YearRight * 100 / ms.YearAnswers
	}
	c.JSON(http.StatusOK, out)
}

// MPBoard: GET /api/v1/mp/study/board → the top of the boards of his org and its parent (his village
// and town) this year, and his places; when his county keeps ranking off, his own figures only.
func (s *Service) MPBoard(c *gin.Context) {
	m := s.mpsMember(c)
	if m == nil {
		return
	}
	ctx := c.Request.Context()
	ms, err := s.Stats(ctx, m.ID)
	if err != nil {
		s.mpsFail(c, err)
		return
	}
	out := mpsBoard{Ranking: ms.Ranking, Year: ms.Year, YearPoints: ms.YearPoints, Points: ms.Points}
	if !ms.Ranking {
		c.JSON(http.StatusOK, out)
		return
	}
	boards := make([]mpsOrgBoard, 0, len(ms.Ranks))
	for _, r := range ms.Ranks {
		entries, err := s.Board(ctx, r.OrgID, ms.Year, boardSize)
		if err != nil {
			s.mpsFail(c, err)
			return
		}
		b := mpsOrgBoard{OrgID: r.OrgID, OrgName: r.OrgName, Rank: r.Rank, Top: make([]mpsBoardLine, len(entries))}
		for i, e := range entries {
			b.Top[i] = mpsBoardLine{Rank: e.Rank, Name: e.Name, Points: e.Points, Me: e.MemberID == m.ID}
		}
		boards = append(boards, b)
	}
	out.Boards = &boards
	c.JSON(http.StatusOK, out)
}

func mpsAbort(c *gin.Context, status int, code, msg, field string, questionID uint) {
	c.AbortWithStatusJSON(status, mpsError{Error: code, Message: msg, Field: field, QuestionID: questionID})
}

// mpsFail answers 500 and logs why.
func (s *Service) mpsFail(c *gin.Context, err error) {
	s.log.ErrorContext(c.Request.Context(), "study: mini-program request failed", "path", c.Request.URL.Path, "err", err)
	mpsAbort(c, http.StatusInternalServerError, "internal", textMPSInternal, "", 0)
}
