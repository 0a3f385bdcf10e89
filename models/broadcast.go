package models

import "time"

// Broadcast kinds: what a broadcast carries. A survey broadcast reuses the same engine with its own
// Payload (the survey to answer).
const (
	BroadcastNotice = "notice" // 通知: Text and an optional Link
	BroadcastSurvey = "survey" // 问卷: Payload names the survey
)

// Broadcast states. pending → scheduled → sending → done; paused and cancelled on an administrator's
// word. A broadcast needing a second administrator starts pending; the others start scheduled (SendAt
// may be now).
const (
	BroadcastPending   = "pending"   // waiting for a second administrator's approval
	BroadcastScheduled = "scheduled" // waiting for SendAt
	BroadcastSending   = "sending"   // audience being expanded and delivered
	BroadcastPaused    = "paused"    // nothing more goes out until resumed
	BroadcastDone      = "done"      // every recipient is final
	BroadcastCancelled = "cancelled" // what had not gone out will not
)

// Broadcast is one notice (or survey) to an audience: the members of some org subtrees (Orgs), of
// some roles (Roles, comma-separated; "" = every role). The database is the source of truth: a
// server notices scheduled broadcasts by polling, expands the audience into Delivery rows in batches
// (ExpandCursor is the last member id done, so an expansion cut short resumes), and the Redis queue
// only hands those rows out.
type Broadcast struct {
	ID      uint   `gorm:"primaryKey"`
	Kind    string `gorm:"size:8;not null"`
	Title   string `gorm:"size:64;not null"` // the template message's first line; "" = 通知
	Text    string `gorm:"size:2000;not null"`
	Link    string `gorm:"size:512;not null"`
	Payload string `gorm:"type:text"` // kind-specific JSON (a survey's id); "" for notices
	Roles   string `gorm:"size:128;not null"`
	// OrgPath is the lowest org holding the whole audience: where the audit entries live and whose
	// administrators (and those above) may manage it.
	OrgPath       string `gorm:"size:512;not null;index"`
	Status        string `gorm:"size:12;not null;index"`
	NeedsApproval bool   `gorm:"not null"`
	SendAt        time.Time
	CreatedBy     string `gorm:"size:64;not null"` // console username, or "cli"
	CreatedByID   *uint  // the console account, when there is one
	ApprovedBy    string `gorm:"size:64;not null"`
	ApprovedAt    *time.Time
	// ExpandCursor: the audience is expanded in member id order; members up to this id have rows.
	ExpandCursor uint `gorm:"not null"`
	ExpandedAt   *time.Time
	Recipients   int `gorm:"not null"` // delivery rows, once expanded
	StartedAt    *time.Time
	FinishedAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Orgs         []BroadcastOrg `gorm:"constraint:OnDelete:CASCADE"`
}

// BroadcastOrg is one subtree of a broadcast's audience.
type BroadcastOrg struct {
	BroadcastID uint   `gorm:"primaryKey;autoIncrement:false"`
	OrgID       uint   `gorm:"primaryKey;autoIncrement:false"`
	Org         Org    `gorm:"constraint:OnDelete:RESTRICT"`
	Path        string `gorm:"size:512;not null;index"`
}

// Delivery states: queued until final; sent (WeChat took it), failed (a permanent refusal or retries
// used up: Reason says which), skipped (no WeChat bound), cancelled (the broadcast was).
const (
	DeliveryQueued    = "queued"
	DeliverySent      = "sent"
	DeliveryFailed    = "failed"
	DeliverySkipped   = "skipped"
	DeliveryCancelled = "cancelled"
)

// Delivery is one recipient of a broadcast, unique per broadcast × member. While queued, DueAt is when
// it may next be handed out (a retry's backoff, or how long a hand-out lasts), and Claim the worker
// lease that holds it (empty: nobody): a worker claims a row before sending, in the database, so
// two copies of a queue entry never send twice; a row whose claim expired (a worker killed) is handed
// out again, counted in Dup (the first send may have reached him). Answered is for surveys.
type Delivery struct {
	ID          uint64 `gorm:"primaryKey;index:idx_delivery_status,priority:3"`
	BroadcastID uint   `gorm:"not null;uniqueIndex:idx_delivery_bm,priority:1;index:idx_delivery_status,priority:1"`
	MemberID    uint   `gorm:"not null;uniqueIndex:idx_delivery_bm,priority:2"`
	OrgID       uint   `gorm:"not null"`
	OpenID      string `gorm:"size:64;not null"` // the official-account openid when expanded
	Status      string `gorm:"size:10;not null;index:idx_delivery_status,priority:2"`
	DueAt       time.Time
	Claim       string `gorm:"size:24;not null"`
	Attempts    int    `gorm:"not null"`
	Unsure      bool   `gorm:"not null"` // the last attempt timed out: it may have arrived
	Dup         int    `gorm:"not null"` // sends after an attempt that may have arrived (possible duplicates)
	Via         string `gorm:"size:8;not null"`
	ErrCode     int    `gorm:"not null"`
	Reason      string `gorm:"size:64;not null"`
	SentAt      *time.Time
	ReadAt      *time.Time // first opened the notice page or the survey form the message linked to
	AnsweredAt  *time.Time
	UpdatedAt   time.Time
}

// BroadcastTally is how many of a broadcast's recipients in one org are in one state (and how many of
// them may have got it twice), kept up to date with every change of the delivery rows, so that a
// progress page over 600,000 recipients reads a few hundred rows instead of counting them all. It is
// rebuilt from the delivery rows when a broadcast ends or is cancelled.
type BroadcastTally struct {
	BroadcastID uint   `gorm:"primaryKey;autoIncrement:false"`
	OrgID       uint   `gorm:"primaryKey;autoIncrement:false"`
	Status      string `gorm:"primaryKey;size:10"`
	N           int64  `gorm:"not null"`
	Dup         int64  `gorm:"not null"`
}

// broadcastModels are migrated by Migrate (see migrate.go).
func broadcastModels() []any {
	return []any{&Broadcast{}, &BroadcastOrg{}, &Delivery{}, &BroadcastTally{}}
}
