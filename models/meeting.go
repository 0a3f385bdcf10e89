package models

// Meetings (三会一课 and others) and their attendance. Owned by the meetings part.

// meetingModels are migrated by Migrate (see migrate.go).
func meetingModels() []any { return nil }
