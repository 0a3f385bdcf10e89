package models

import "time"

// StudyRule says how the daily study task is made and scored for the members of an org's subtree. The
// nearest ancestor's rule applies (an org's own rule first, then its town's, then its county's); with
// none, the study capability's defaults. A rule is taken whole, never merged field by field with a
// rule above it, so what a village sees is one row. PublicRanking is read from the county's rule only:
// whether members see boards is a county decision.
type StudyRule struct {
	ID               uint   `gorm:"primaryKey"`
	OrgID            uint   `gorm:"not null;uniqueIndex"`
	Org              Org    `gorm:"constraint:OnDelete:CASCADE"`
	QuestionsPerTask int    `gorm:"not null"`          // questions in a day's task, review items included
	Tags             string `gorm:"size:512;not null"` // comma list; a question with any of them is drawn; empty = any
	ReviewPerTask    int    `gorm:"not null"`          // at most this many of them from the wrong-answer book
	PublishAt        string `gorm:"size:5;not null"`   // "07:00", in YANZHEN_TZ
	RemindAt         string `gorm:"size:5;not null"`   // "20:00": evening reminder to those not done
	PointsPerRight   int    `gorm:"not null"`          // points per right answer
	DailyPointsCap   int    `gorm:"not null"`          // at most this many points a day, streak bonus included
	StreakBonus      int    `gorm:"not null"`          // extra points per day of streak from its 2nd day
	StreakBonusMax   int    `gorm:"not null"`          // ... at most this many
	MinutesPerTask   int    `gorm:"not null"`          // training minutes credited for a completed task
	PublicRanking    bool   `gorm:"not null"`          // boards shown to members (county rule only)
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// StudyTask is one member's study task of one day (Day is "2006-01-02" in YANZHEN_TZ). Items is a JSON
// array of the questions in the order asked, each with the member's shuffled option order, whether it
// is a review from the wrong-answer book, and whether it has been answered (and rightly). Next is the
// index of the first unanswered item (Total when done); Answered and RightAnswers count the answers.
// Points (with Bonus, the streak part of it) are what completing the task credited.
type StudyTask struct {
	ID           uint64 `gorm:"primaryKey"`
	MemberID     uint   `gorm:"not null;uniqueIndex:idx_study_task_member_day,priority:1"`
	Member       Member `gorm:"constraint:OnDelete:CASCADE"`
	Day          string `gorm:"size:10;not null;uniqueIndex:idx_study_task_member_day,priority:2;index"`
	OrgID        uint   `gorm:"not null;index"` // the member's org when the task was made (progress by org)
	Items        string `gorm:"type:text;not null"`
	Total        int    `gorm:"not null"`
	Next         int    `gorm:"not null"`
	Answered     int    `gorm:"not null"`
	RightAnswers int    `gorm:"not null"`
	Points       int    `gorm:"not null"`
	Bonus        int    `gorm:"not null"`
	CompletedAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// StudyAnswer is one answer to one question of a task: a duplicated delivery or a double submit finds
// the row there and counts once. Given is the answer as the bank normalized it (option letters in the
// bank's order, 对/错, or the blank's text).
type StudyAnswer struct {
	ID         uint64    `gorm:"primaryKey"`
	TaskID     uint64    `gorm:"not null;uniqueIndex:idx_study_answer_task_question,priority:1"`
	Task       StudyTask `gorm:"constraint:OnDelete:CASCADE"`
	QuestionID uint      `gorm:"not null;uniqueIndex:idx_study_answer_task_question,priority:2;index"`
	MemberID   uint      `gorm:"not null;index:idx_study_answer_member_at,priority:1"`
	Given      string    `gorm:"size:256;not null"`
	Correct    bool      `gorm:"not null"`
	Review     bool      `gorm:"not null"`
	At         time.Time `gorm:"not null;index:idx_study_answer_member_at,priority:2"`
}

// WrongItem is a question in a member's wrong-answer book. A wrong answer puts it (back) at stage 0,
// due the next day; answered right when due it moves on to stage 1 (due 3 days later), stage 2 (7 days
// later), and after that it is mastered (MasteredAt set; it leaves the book but keeps its history).
type WrongItem struct {
	ID         uint64 `gorm:"primaryKey"`
	MemberID   uint   `gorm:"not null;uniqueIndex:idx_wrong_member_question,priority:1;index:idx_wrong_member_due,priority:1"`
	Member     Member `gorm:"constraint:OnDelete:CASCADE"`
	QuestionID uint   `gorm:"not null;uniqueIndex:idx_wrong_member_question,priority:2"`
	Stage      int    `gorm:"not null"`
	DueDay     string `gorm:"size:10;not null;index:idx_wrong_member_due,priority:2"`
	Misses     int    `gorm:"not null"`
	LastWrong  string `gorm:"size:10;not null"` // day of the last wrong answer
	MasteredAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Ledger kinds.
const (
	LedgerPoints  = "points"
	LedgerMinutes = "minutes"
)

// LedgerEntry is one credit of points or training minutes, with its source ("task:123" for a completed
// task, "streak:2026-11-21" for a streak bonus). Member, kind and source are unique, so every point and
// minute has one source and is never counted twice. Year is the year of Day.
type LedgerEntry struct {
	ID        uint64 `gorm:"primaryKey"`
	MemberID  uint   `gorm:"not null;uniqueIndex:idx_ledger_source,priority:1;index:idx_ledger_year_member,priority:2"`
	Member    Member `gorm:"constraint:OnDelete:CASCADE"`
	Kind      string `gorm:"size:8;not null;uniqueIndex:idx_ledger_source,priority:2"`
	Source    string `gorm:"size:64;not null;uniqueIndex:idx_ledger_source,priority:3"`
	Amount    int    `gorm:"not null"`
	Day       string `gorm:"size:10;not null"`
	Year      int    `gorm:"not null;index:idx_ledger_year_member,priority:1"`
	CreatedAt time.Time
}

// StudyStats is a member's running totals, updated in the transaction that writes the ledger, and
// rebuildable from the ledger and the tasks. Streak counts consecutive days with a completed task up
// to LastDay; the year figures are of Year (a new year starts them at 0).
type StudyStats struct {
	MemberID    uint   `gorm:"primaryKey;autoIncrement:false"`
	Member      Member `gorm:"constraint:OnDelete:CASCADE"`
	Streak      int    `gorm:"not null"`
	BestStreak  int    `gorm:"not null"`
	LastDay     string `gorm:"size:10;not null"` // last day with a completed task
	Points      int    `gorm:"not null"`         // all points ever
	Year        int    `gorm:"not null"`
	YearPoints  int    `gorm:"not null"`
	YearMinutes int    `gorm:"not null"`
	UpdatedAt   time.Time
}

// StudyThresholds are a county's limits of the green/yellow/red status of study progress (percent):
// completion and accuracy at or above the green mark are green, at or above the yellow mark yellow,
// else red. OrgID is the county; without a row, the study capability's defaults apply.
type StudyThresholds struct {
	OrgID            uint `gorm:"primaryKey;autoIncrement:false"`
	Org              Org  `gorm:"constraint:OnDelete:CASCADE"`
	CompletionGreen  int  `gorm:"not null"`
	CompletionYellow int  `gorm:"not null"`
	AccuracyGreen    int  `gorm:"not null"`
	AccuracyYellow   int  `gorm:"not null"`
	UpdatedAt        time.Time
}

// The study figures' daily summary (handlers/study/summary.go): a nightly job summarises each past day
// of tasks once, so that the console's figures for a long period read a few rows per day instead of
// every task and answer; days not summarised yet (today) are read from the tasks. Everything in it is
// rebuildable from study_tasks, study_answers, questions and orgs.

// StudyOrgDay is the tasks of one day of an org's subtree (the org and every org under it, by the
// org of each task and the tree when summarised): a page about an org reads its row and its units'
// rows, never the villages' under them.
type StudyOrgDay struct {
	OrgID     uint   `gorm:"primaryKey;autoIncrement:false"`
	Day       string `gorm:"primaryKey;size:10"`
	Published int64  `gorm:"not null"` // tasks
	Completed int64  `gorm:"not null"`
	Answered  int64  `gorm:"not null"` // answers
	NRight    int64  `gorm:"not null"`
}

// StudyOrgDayTags is the answers to the tasks of one day of an org's subtree, by their questions' tag
// list (questions.tags as it was when summarised).
type StudyOrgDayTags struct {
	OrgID    uint   `gorm:"primaryKey;autoIncrement:false"`
	Day      string `gorm:"primaryKey;size:10"`
	Tags     string `gorm:"primaryKey;size:512"`
	Answered int64  `gorm:"not null"`
	NRight   int64  `gorm:"not null"`
}

// StudySummaryDay is a day whose rows above are written (in the same transaction): the figures read
// them for this day and the tasks for days without a row.
type StudySummaryDay struct {
	Day          string    `gorm:"primaryKey;size:10"`
	Tasks        int64     `gorm:"not null"` // tasks summarised (0: none that day)
	SummarisedAt time.Time `gorm:"not null"`
}

func studySummaryModels() []any { return []any{&StudyOrgDay{}, &StudyOrgDayTags{}, &StudySummaryDay{}} }
