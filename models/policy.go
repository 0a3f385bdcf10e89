package models

import "time"

// The policy Q&A knowledge base: documents split into passages, FAQ pairs, and the questions the bot
// could not answer (the console's inbox).

// PolicyDoc is one imported document. Name is its file name (the natural key of re-imports); Hash is
// the SHA-256 of its folded text, so re-importing an unchanged file changes nothing.
type PolicyDoc struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"size:255;not null;uniqueIndex"`
	Title     string `gorm:"size:255;not null"`
	Source    string `gorm:"size:255"` // issuing body or publication
	Date      string `gorm:"size:32"`  // as written in the document
	Hash      string `gorm:"size:64;not null"`
	Passages  int    `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PolicyPassage is one passage of a document (a paragraph, or part of a long one).
type PolicyPassage struct {
	ID    uint   `gorm:"primaryKey"`
	DocID uint   `gorm:"not null;index"`
	Seq   int    `gorm:"not null"`
	Text  string `gorm:"type:text;not null"`
}

// PolicyFAQ is a question-answer pair edited in the console. Alternatives holds other phrasings of
// the question, one per line.
type PolicyFAQ struct {
	ID           uint   `gorm:"primaryKey"`
	Question     string `gorm:"size:500;not null"`
	Alternatives string `gorm:"type:text"`
	Answer       string `gorm:"type:text;not null"`
	Source       string `gorm:"size:255"`
	Active       bool   `gorm:"not null;default:true"`
	UpdatedBy    string `gorm:"size:64"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Policy question states.
const (
	AskAnswered = "answered" // the bot answered (FAQ or passage)
	AskOpen     = "open"     // nothing fitted: waiting in the inbox
	AskReplied  = "replied"  // a person answered in the console
)

// PolicyQuestion is a question a member asked. Every question is logged (for evaluation); those the
// bot could not answer are the inbox. OrgPath is the asker's org, for the inbox's scope.
type PolicyQuestion struct {
	ID        uint    `gorm:"primaryKey"`
	MemberID  uint    `gorm:"not null;index"`
	OrgID     uint    `gorm:"not null"`
	OrgPath   string  `gorm:"size:512;not null;index"`
	Channel   string  `gorm:"size:8;not null"`
	OpenID    string  `gorm:"size:64;not null"`
	Text      string  `gorm:"size:1000;not null"`
	State     string  `gorm:"size:16;not null;index"`
	Score     float64 // the best match's score
	FAQID     *uint   // the FAQ that answered
	PassageID *uint   // the passage that answered
	Reply     string  `gorm:"type:text"` // what the asker was told (bot or person)
	RepliedBy string  `gorm:"size:64"`
	RepliedAt *time.Time
	Delivery  string    `gorm:"size:200"` // how a person's answer reached the asker, or why it did not
	AskedAt   time.Time `gorm:"not null;index"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PolicyIndexState is the one row (ID 1) that says which state of the knowledge base is current:
// every change of documents or FAQs adds one to Generation in the same transaction, and each server
// process compares it with the state its in-memory index (and the snapshot on its disk) was built
// from. Epoch is random, made with the row, so that a snapshot of another database (a database that
// was dropped and made again, another test) never passes for this one's.
type PolicyIndexState struct {
	ID         uint   `gorm:"primaryKey;autoIncrement:false"`
	Epoch      string `gorm:"size:32;not null"`
	Generation int64  `gorm:"not null"`
	UpdatedAt  time.Time
}

// policyModels are migrated by Migrate (see migrate.go).
func policyModels() []any {
	return []any{&PolicyDoc{}, &PolicyPassage{}, &PolicyFAQ{}, &PolicyQuestion{}, &PolicyIndexState{}}
}
