package models

import "time"

// Survey question kinds.
const (
	SurveySingle = "single" // 单选: one option
	SurveyMulti  = "multi"  // 多选: MinChoices..MaxChoices options
	SurveyText   = "text"   // 填空: free text
	SurveyRating = "rating" // 评分: 1..Scale (5 or 10)
	SurveyNumber = "number" // 数字: a number, optionally within NumMin..NumMax
)

// Survey states. A draft is edited and seen by nobody; open surveys are answered until the deadline
// (or until closed early); a survey is never reopened.
const (
	SurveyDraft  = "draft"
	SurveyOpen   = "open"
	SurveyClosed = "closed"
)

// Survey is an electronic questionnaire (电子问卷) for the members of an org subtree (OrgID, OrgPath)
// with some roles (Roles, comma-separated; "" = every role). Its administrators are those whose scope
// holds OrgPath. Anonymous: the answers are kept apart from the people (see SurveyResponse); who has
// finished is still known (SurveyFinish), so reminders work.
type Survey struct {
	ID        uint      `gorm:"primaryKey"`
	Title     string    `gorm:"size:100;not null"`
	Intro     string    `gorm:"size:1000;not null"`
	OrgID     uint      `gorm:"not null;index"`
	Org       Org       `gorm:"constraint:OnDelete:RESTRICT"`
	OrgPath   string    `gorm:"size:512;not null;index"`
	Roles     string    `gorm:"size:128;not null"`
	Anonymous bool      `gorm:"not null"`
	Status    string    `gorm:"size:8;not null;index"`
	Deadline  time.Time `gorm:"not null"`
	// Reminders to those who have not finished: every RemindEvery days (0: only by hand), at most
	// RemindMax rounds (manual ones count too); Rounds so far, the last at LastRemindAt.
	RemindEvery  int `gorm:"not null"`
	RemindMax    int `gorm:"not null"`
	Rounds       int `gorm:"not null"`
	LastRemindAt *time.Time
	// Responses counts the finished responses (kept with each finish, so lists need no count query).
	Responses   int    `gorm:"not null"`
	CreatedBy   string `gorm:"size:64;not null"`
	CreatedByID *uint
	OpenedAt    *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Questions   []SurveyQuestion `gorm:"constraint:OnDelete:CASCADE"`
}

// SurveyQuestion is one question of a survey, at position Seq (1-based). Options is a JSON array of the
// option texts (choice questions). A question with ShowIfSeq > 0 is asked only when the answer to the
// earlier choice question at that position includes option ShowIfOption (1-based).
type SurveyQuestion struct {
	ID           uint   `gorm:"primaryKey"`
	SurveyID     uint   `gorm:"not null;uniqueIndex:idx_survey_question_seq,priority:1"`
	Seq          int    `gorm:"not null;uniqueIndex:idx_survey_question_seq,priority:2"`
	Kind         string `gorm:"size:8;not null"`
	Text         string `gorm:"size:500;not null"`
	Options      string `gorm:"type:text;not null"`
	Required     bool   `gorm:"not null"`
	MinChoices   int    `gorm:"not null"`
	MaxChoices   int    `gorm:"not null"`
	Scale        int    `gorm:"not null"` // rating: 5 or 10
	NumMin       *float64
	NumMax       *float64
	ShowIfSeq    int `gorm:"not null"`
	ShowIfOption int `gorm:"not null"`
}

// SurveyResponse is one member's answers to a survey, unique per survey × member. While it is a draft
// (Done false) it names the member, so that he can resume; Cursor is the question he is at. A finished
// response of a named survey keeps the member; a finished response of an anonymous survey is a new row
// with a random id, no member and no time (its answers too have no serial ids and no times), so
// nothing in it points back to the member or to when he finished (SurveyFinish says that he did).
type SurveyResponse struct {
	ID          uint64 `gorm:"primaryKey;index:idx_survey_response_order,priority:2"`
	SurveyID    uint   `gorm:"not null;uniqueIndex:idx_survey_response_member,priority:1;index:idx_survey_response_org,priority:1;index:idx_survey_response_order,priority:1"`
	MemberID    *uint  `gorm:"uniqueIndex:idx_survey_response_member,priority:2"`
	OrgID       uint   `gorm:"not null;index:idx_survey_response_org,priority:2"`
	Done        bool   `gorm:"not null"`
	Cursor      int    `gorm:"not null"`
	Via         string `gorm:"size:8;not null"` // chat, h5 or mp; "" for anonymous finished responses
	StartedAt   *time.Time
	SubmittedAt *time.Time
}

// SurveyAnswer is one answer of a response; a multiple-choice answer is one row per chosen option (Pos
// its order). Choice is the option (1-based) or the rating; Num a number; Text a text answer. The key is
// the response, question and position: no serial id, whose order would tell when it was written.
type SurveyAnswer struct {
	ResponseID uint64 `gorm:"primaryKey;autoIncrement:false;index:idx_survey_answer_question,priority:2"`
	QuestionID uint   `gorm:"primaryKey;autoIncrement:false;index:idx_survey_answer_question,priority:1"`
	Pos        int    `gorm:"primaryKey;autoIncrement:false"`
	SurveyID   uint   `gorm:"not null;index"`
	Choice     int    `gorm:"not null"`
	Num        *float64
	Text       string `gorm:"size:1000;not null"`
}

// SurveyFinish records that a member finished a survey, and when: the one record of who has answered,
// for named and anonymous surveys alike (reminders, response rates, "one member, one response").
type SurveyFinish struct {
	SurveyID   uint `gorm:"primaryKey;autoIncrement:false;index:idx_survey_finish_org,priority:1"`
	MemberID   uint `gorm:"primaryKey;autoIncrement:false"`
	OrgID      uint `gorm:"not null;index:idx_survey_finish_org,priority:2"`
	FinishedAt time.Time
}

// SurveyTally counts the finished answers of a question per org and value (an option, or a rating);
// Value 0 counts the responses that answered the question at all, and for a number question Sum adds
// up the numbers (the mean). Kept in the transaction of each finish, so results of 100,000 responses
// are a sum over a few thousand rows.
type SurveyTally struct {
	SurveyID   uint    `gorm:"primaryKey;autoIncrement:false"`
	QuestionID uint    `gorm:"primaryKey;autoIncrement:false"`
	OrgID      uint    `gorm:"primaryKey;autoIncrement:false"`
	Value      int     `gorm:"primaryKey;autoIncrement:false"`
	N          int64   `gorm:"not null"`
	Sum        float64 `gorm:"not null"`
}

// Survey reminder kinds: a reminder to a member, or the list of his people who have not answered to a
// village's 书记.
const (
	SurveyRemindMember    = "member"
	SurveyRemindSecretary = "secretary"
)

// SurveyReminder is one reminder of round Round of a survey to a member, claimed before it is sent, so
// nobody gets two in a round. Status is claimed, sent or failed (ErrCode, Reason).
type SurveyReminder struct {
	SurveyID  uint   `gorm:"primaryKey;autoIncrement:false"`
	Round     int    `gorm:"primaryKey;autoIncrement:false"`
	MemberID  uint   `gorm:"primaryKey;autoIncrement:false"`
	Kind      string `gorm:"primaryKey;size:10"`
	Status    string `gorm:"size:8;not null"`
	Via       string `gorm:"size:8;not null"`
	ErrCode   int    `gorm:"not null"`
	Reason    string `gorm:"size:64;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// surveyModels are migrated by Migrate (see migrate.go).
func surveyModels() []any {
	return []any{&Survey{}, &SurveyQuestion{}, &SurveyResponse{}, &SurveyAnswer{}, &SurveyFinish{}, &SurveyTally{}, &SurveyReminder{}}
}
