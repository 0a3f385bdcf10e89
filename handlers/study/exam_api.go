package study

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/mp"
	"github.com/yanzhen/yanzhen/models"
)

// The HTTP side of completion tests: the members' calls in the mini-program (behind mp's Auth) and the
// administrators' in the console's JSON API. server/openapi/mp_exams.json documents both.

// Defaults of a new exam made through the API.
const (
	defaultPassMark    = 60
	defaultMaxAttempts = 3
)

// Console shapes.

type apiExamInput struct {
	OrgID       uint           `json:"org_id"`
	Title       string         `json:"title"`
	Quota       map[string]int `json:"quota"`
	Tags        []string       `json:"tags"`
	TimeLimit   int            `json:"time_limit_minutes"`
	PassMark    *int           `json:"pass_mark"`
	MaxAttempts *int           `json:"max_attempts"`
	OpensAt     *time.Time     `json:"opens_at"`
	ClosesAt    *time.Time     `json:"closes_at"`
}

type apiExam struct {
	ID          uint           `json:"id"`
	OrgID       uint           `json:"org_id"`
	OrgPath     string         `json:"org_path"`
	Title       string         `json:"title"`
	Quota       map[string]int `json:"quota"`
	Tags        []string       `json:"tags"`
	Questions   int            `json:"questions"`
	TimeLimit   int            `json:"time_limit_minutes"`
	PassMark    int            `json:"pass_mark"`
	MaxAttempts int            `json:"max_attempts"`
	OpensAt     time.Time      `json:"opens_at"`
	ClosesAt    time.Time      `json:"closes_at"`
	CreatedBy   string         `json:"created_by"`
	CreatedAt   time.Time      `json:"created_at"`
}

func toAPIExam(ex *models.Exam, orgPath string) apiExam {
	quota := map[string]int{}
	for _, tc := range quotaOf(ex) {
		quota[tc.Type] = tc.Count
	}
	return apiExam{ID: ex.ID, OrgID: ex.OrgID, OrgPath: orgPath, Title: ex.Title, Quota: quota, Tags: nonNilStrings(splitTags(ex.Tags)),
		Questions: questionCount(ex), TimeLimit: ex.TimeLimit, PassMark: ex.PassMark, MaxAttempts: ex.MaxAttempts,
		OpensAt: ex.OpensAt, ClosesAt: ex.ClosesAt, CreatedBy: ex.CreatedBy, CreatedAt: ex.CreatedAt}
}

type apiExamResults struct {
	Members    int      `json:"members"`
	Attempts   int      `json:"attempts"`
	InProgress int      `json:"in_progress"`
	Passed     int      `json:"passed"`
	PassRate   *float64 `json:"pass_rate"`
}

type apiExamRow struct {
	apiExam
	Results apiExamResults `json:"results"`
}

type apiExamList struct {
	Items []apiExamRow `json:"items"`
}

// APICreateExam is POST /api/v1/exams (administrators): a completion test for an org in the viewer's
// scope (403 outside it).
func (e *Exams) APICreateExam(c *gin.Context) {
	var in apiExamInput
	if err := decodeJSON(c, &in); err != nil {
		e.con.Fail(c, err)
		return
	}
	ei := ExamInput{OrgID: in.OrgID, Title: in.Title, Quota: in.Quota, Tags: in.Tags, TimeLimit: in.TimeLimit,
		PassMark: defaultPassMark, MaxAttempts: defaultMaxAttempts}
	if in.PassMark != nil {
		ei.PassMark = *in.PassMark
	}
	if in.MaxAttempts != nil {
		ei.MaxAttempts = *in.MaxAttempts
	}
	if in.OpensAt != nil {
		ei.OpensAt = *in.OpensAt
	}
	if in.ClosesAt != nil {
		ei.ClosesAt = *in.ClosesAt
	}
	ex, err := e.CreateExam(c.Request.Context(), console.ViewerOf(c), ei)
	if err != nil {
		e.con.Fail(c, err)
		return
	}
	var path string
	e.s.db.WithContext(c.Request.Context()).Model(&models.Org{}).Where("id = ?", ex.OrgID).Pluck("path", &path)
	c.JSON(http.StatusCreated, toAPIExam(ex, path))
}

// APIExams is GET /api/v1/exams: the exams that concern the viewer's part of the org tree (set in it or
// above it), with the results of its members.
func (e *Exams) APIExams(c *gin.Context) {
	rows, err := e.ListExams(c.Request.Context(), console.ViewerOf(c).Scope)
	if err != nil {
		e.con.Fail(c, err)
		return
	}
	out := apiExamList{Items: make([]apiExamRow, len(rows))}
	for i := range rows {
		r := &rows[i]
		out.Items[i] = apiExamRow{apiExam: toAPIExam(&r.Exam, r.OrgPath), Results: apiExamResults{
			Members: r.Results.Members, Attempts: r.Results.Attempts, InProgress: r.Results.InProgress,
			Passed: r.Results.Passed, PassRate: r.Results.PassRate,
		}}
	}
	c.JSON(http.StatusOK, out)
}

// decodeJSON reads the request body into v; a malformed body is a console.InputError.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return console.Invalid(te.Field, "%s 的类型不对", te.Field)
		}
		return console.Invalid("body", "请求体应为 JSON 对象")
	}
	return nil
}

// Mini-program shapes.

type apiMPExam struct {
	ID             uint      `json:"id"`
	Title          string    `json:"title"`
	Questions      int       `json:"questions"`
	TimeLimit      int       `json:"time_limit_minutes"`
	PassMark       int       `json:"pass_mark"`
	MaxAttempts    int       `json:"max_attempts"`
	AttemptsUsed   int       `json:"attempts_used"`
	AttemptsLeft   int       `json:"attempts_left"`
	Passed         bool      `json:"passed"`
	BestScore      *int      `json:"best_score"`
	CurrentAttempt *int      `json:"current_attempt"`
	OpensAt        time.Time `json:"opens_at"`
	ClosesAt       time.Time `json:"closes_at"`
}

type apiMPExamList struct {
	Items []apiMPExam `json:"items"`
}

type apiAttemptQuestion struct {
	Index   int      `json:"index"`
	Type    string   `json:"type"`
	Stem    string   `json:"stem"`
	Options []string `json:"options"`
	Answer  *string  `json:"answer"` // his answer as he sees it; null while unanswered
}

type apiAttempt struct {
	ExamID    uint                 `json:"exam_id"`
	N         int                  `json:"n"`
	Title     string               `json:"title"`
	Total     int                  `json:"total"`
	Answered  int                  `json:"answered"`
	PassMark  int                  `json:"pass_mark"`
	StartedAt time.Time            `json:"started_at"`
	DueAt     *time.Time           `json:"due_at"`
	Finished  bool                 `json:"finished"`
	Next      *int                 `json:"next_index"`
	Questions []apiAttemptQuestion `json:"questions"`
}

type apiExamAnswer struct {
	Index  *int   `json:"index"`
	Answer string `json:"answer"`
}

type apiExamProgress struct {
	Answered int  `json:"answered"`
	Total    int  `json:"total"`
	Next     *int `json:"next_index"`
}

type apiExamResult struct {
	ExamID       uint   `json:"exam_id"`
	N            int    `json:"n"`
	Title        string `json:"title"`
	Score        int    `json:"score"`
	Right        int    `json:"right"`
	Total        int    `json:"total"`
	PassMark     int    `json:"pass_mark"`
	Passed       bool   `json:"passed"`
	TimeUp       bool   `json:"time_up"`
	AttemptsLeft int    `json:"attempts_left"`
	Remedial     bool   `json:"remedial"`
}

type apiMPError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func index(i int) *int {
	if i < 0 {
		return nil
	}
	return &i
}

// MPExams is GET /api/v1/mp/exams: the member's open exams and how he stands in each.
func (e *Exams) MPExams(c *gin.Context) {
	list, err := e.OpenExams(c.Request.Context(), mp.MemberOf(c).ID)
	if err != nil {
		e.mpFail(c, err)
		return
	}
	out := apiMPExamList{Items: make([]apiMPExam, len(list))}
	for i := range list {
		st := &list[i]
		x := apiMPExam{ID: st.Exam.ID, Title: st.Exam.Title, Questions: st.Questions, TimeLimit: st.Exam.TimeLimit,
			PassMark: st.Exam.PassMark, MaxAttempts: st.Exam.MaxAttempts, AttemptsUsed: st.AttemptsUsed,
			AttemptsLeft: st.AttemptsLeft, Passed: st.Passed, BestScore: st.BestScore, OpensAt: st.Exam.OpensAt, ClosesAt: st.Exam.ClosesAt}
		if st.Current != nil {
			n := st.Current.N
			x.CurrentAttempt = &n
		}
		out.Items[i] = x
	}
	c.JSON(http.StatusOK, out)
}

// MPStartAttempt is POST /api/v1/mp/exams/:id/attempts: starts the member's next attempt (201) or
// returns the one in progress (200).
func (e *Exams) MPStartAttempt(c *gin.Context) {
	id, ok := examParam(c)
	if !ok {
		e.mpFail(c, ErrExamNotFound)
		return
	}
	v, started, err := e.StartAttempt(c.Request.Context(), mp.MemberOf(c).ID, id)
	if err != nil {
		e.mpFail(c, err)
		return
	}
	status := http.StatusOK
	if started {
		status = http.StatusCreated
	}
	c.JSON(status, toAPIAttempt(v))
}

func toAPIAttempt(v *AttemptView) apiAttempt {
	out := apiAttempt{ExamID: v.Exam.ID, N: v.N, Title: v.Exam.Title, Total: v.Total, Answered: v.Answered,
		PassMark: v.Exam.PassMark, StartedAt: v.StartedAt, DueAt: v.DueAt, Finished: v.Finished, Next: index(v.Next),
		Questions: make([]apiAttemptQuestion, len(v.Questions))}
	for i, q := range v.Questions {
		aq := apiAttemptQuestion{Index: q.Index, Type: q.Question.Type, Stem: q.Question.Stem, Options: nonNilStrings(q.Options)}
		if q.Given != "" {
			g := q.Given
			aq.Answer = &g
		}
		out.Questions[i] = aq
	}
	return out
}

// MPAnswer is POST /api/v1/mp/exams/:id/attempts/:n/answers {"index": 0, "answer": "B"}: records (or
// changes) the answer to one question of the attempt.
func (e *Exams) MPAnswer(c *gin.Context) {
	id, ok := examParam(c)
	n, okN := attemptParam(c)
	if !ok || !okN {
		e.mpFail(c, ErrExamNotFound)
		return
	}
	var in apiExamAnswer
	if err := decodeJSON(c, &in); err != nil {
		e.mpFail(c, err)
		return
	}
	if in.Index == nil {
		e.mpFail(c, console.Invalid("index", "请给出题目序号 index（从 0 开始）"))
		return
	}
	p, err := e.AnswerExam(c.Request.Context(), mp.MemberOf(c).ID, id, n, *in.Index, in.Answer)
	if errors.Is(err, ErrNotFound) {
		err = console.Invalid("index", "没有这道题")
	}
	if err != nil {
		e.mpFail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiExamProgress{Answered: p.Answered, Total: p.Total, Next: index(p.Next)})
}

// MPFinish is POST /api/v1/mp/exams/:id/attempts/:n/finish: hands the attempt in and scores it
// (unanswered questions count wrong); for a finished attempt, its result.
func (e *Exams) MPFinish(c *gin.Context) {
	id, ok := examParam(c)
	n, okN := attemptParam(c)
	if !ok || !okN {
		e.mpFail(c, ErrExamNotFound)
		return
	}
	r, err := e.Finish(c.Request.Context(), mp.MemberOf(c).ID, id, n)
	if err != nil {
		e.mpFail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiExamResult{ExamID: r.ExamID, N: r.N, Title: r.Title, Score: r.Score, Right: r.Right, Total: r.Total,
		PassMark: r.PassMark, Passed: r.Passed, TimeUp: r.TimeUp, AttemptsLeft: r.AttemptsLeft, Remedial: r.Remedial})
}

func examParam(c *gin.Context) (uint, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	return uint(id), err == nil && id > 0
}

func attemptParam(c *gin.Context) (int, bool) {
	n, err := strconv.Atoi(c.Param("n"))
	return n, err == nil && n > 0
}

// mpFail answers a mini-program call's error in mp's shape: 400 for input, 404, 409 for what the
// exam's state does not allow (with a code saying which), 500 (logged) for the rest.
func (e *Exams) mpFail(c *gin.Context, err error) {
	status, body := http.StatusInternalServerError, apiMPError{Error: "internal", Message: "出错了，请稍后再试。"}
	var ie *console.InputError
	switch {
	case errors.As(err, &ie):
		status, body = http.StatusBadRequest, apiMPError{Error: "invalid", Message: ie.Message, Field: ie.Field}
	case errors.Is(err, ErrNotAnAnswer):
		status, body = http.StatusBadRequest, apiMPError{Error: "invalid", Message: "答案的格式不对：单选回一个字母，多选回几个字母，判断回对或错。", Field: "answer"}
	case errors.Is(err, ErrExamNotFound), errors.Is(err, ErrNotFound):
		status, body = http.StatusNotFound, apiMPError{Error: "not_found", Message: "没有这场测试。"}
	case errors.Is(err, ErrExamClosed):
		status, body = http.StatusConflict, apiMPError{Error: "closed", Message: textExamClosed}
	case errors.Is(err, ErrExamPassed):
		status, body = http.StatusConflict, apiMPError{Error: "passed", Message: "你已经通过这场测试了。"}
	case errors.Is(err, ErrNoAttemptsLeft):
		status, body = http.StatusConflict, apiMPError{Error: "no_attempts_left", Message: "考试次数已用完。"}
	case errors.Is(err, ErrTimeUp):
		status, body = http.StatusConflict, apiMPError{Error: "time_up", Message: "考试时间到了，这次测试已交卷。"}
	case errors.Is(err, ErrAttemptFinished):
		status, body = http.StatusConflict, apiMPError{Error: "finished", Message: "这次测试已经交卷了。"}
	case errors.Is(err, ErrNoQuestions):
		status, body = http.StatusConflict, apiMPError{Error: "no_questions", Message: "题库里的题目不够，测试暂时无法开始，请联系管理员。"}
	default:
		e.s.log.ErrorContext(c.Request.Context(), "study: exam call failed", "path", c.Request.URL.Path, "err", err)
	}
	c.AbortWithStatusJSON(status, body)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
