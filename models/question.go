package models

import "time"

// Question types, as question-bank files write them.
const (
	QuestionSingle = "单选"
	QuestionMulti  = "多选"
	QuestionJudge  = "判断"
	QuestionBlank  = "填空"
)

// QuestionTypes lists the valid types.
var QuestionTypes = []string{QuestionSingle, QuestionMulti, QuestionJudge, QuestionBlank}

// Question is one item of the question bank. The stem is its natural key (imports are idempotent on it;
// StemKey is its normalized SHA-256, so the unique index stays small whatever the stem's length).
// Answer is the letters of the right options for 单选/多选 ("A", "BD"), 对 or 错 for 判断, and the
// accepted texts for 填空 separated by "|". Options holds A–D (and more, if a file has them) as a JSON
// array of strings; empty for 判断 and 填空. Tags are comma-separated. A retired question (Active
// false) is never drawn again but keeps its history.
type Question struct {
	ID          uint   `gorm:"primaryKey"`
	Type        string `gorm:"size:8;not null;index"`
	Stem        string `gorm:"type:text;not null"`
	StemKey     string `gorm:"size:64;not null;uniqueIndex"`
	Options     string `gorm:"type:text;not null"`
	Answer      string `gorm:"type:text;not null"`
	Explanation string `gorm:"type:text;not null"`
	Tags        string `gorm:"size:512;not null"`
	Active      bool   `gorm:"not null;default:true;index"`
	// Attempts and Correct count every answer given to the question (its accuracy), kept by the study
	// capability as answers are scored.
	Attempts  int64 `gorm:"not null;default:0"`
	Correct   int64 `gorm:"not null;default:0"`
	CreatedAt time.Time
	UpdatedAt time.Time
}
