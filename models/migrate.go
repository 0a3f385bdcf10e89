// Package models holds Yanzhen's GORM models (one file per aggregate), opens the database named by a
// URL and migrates its schema. Models carry no queries of their own: each capability's service owns its
// queries.
package models

import (
	"fmt"

	"gorm.io/gorm"
)

// all is every model, in dependency order. Migrate creates or updates their tables.
func all() []any {
	ms := []any{
		&Org{},
		&Member{},
		&LocationReport{},
		&Account{},
		&APIToken{},
		&AuditEntry{},
		&Question{},
		// study models
		&StudyRule{}, &StudyTask{}, &StudyAnswer{}, &WrongItem{}, &LedgerEntry{}, &StudyStats{}, &StudyThresholds{},
		// completion tests and evening reminders (models/exam.go)
		&Exam{}, &ExamAttempt{}, &RemedialStudy{}, &StudyReminder{}, &RemindStop{},
	}
	// attendance (attendance.go, attend_request.go, meeting.go) and policy Q&A (policy.go)
	ms = append(ms, studySummaryModels()...) // study.go: the study figures' daily summary
	ms = append(ms, attendanceModels()...)
	ms = append(ms, requestModels()...)
	ms = append(ms, meetingModels()...)
	ms = append(ms, reportModels()...)
	ms = append(ms, broadcastModels()...)
	ms = append(ms, surveyModels()...)
	return append(ms, policyModels()...)
}

// Migrate brings the schema up to date. It is idempotent and runs at start-up and from `yanzhen migrate`.
func Migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(all()...); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
