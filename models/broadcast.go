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

	// Channel is how its recipients with WeChat are reached: SendDirect each on his own, SendMass by a
	// mass send to a tag (群发; see BroadcastMass).
	Channel string `gorm:"size:8;not null;default:''"`
}

// Broadcast channels.
const (
	SendDirect = ""     // each recipient on his own: a customer-service message inside the 48-hour window, else a template message
	SendMass   = "mass" // 群发: one mass send to a WeChat tag holding the recipients (4 a month per follower)
)

// BroadcastOrg is one subtree of a broadcast's audience.
type BroadcastOrg struct {
	BroadcastID uint   `gorm:"primaryKey;autoIncrement:false"`
	OrgID       uint   `gorm:"primaryKey;autoIncrement:false"`
	Org         Org    `gorm:"constraint:OnDelete:RESTRICT"`
	Path        string `gorm:"size:512;not null;index"`
}

// Delivery states: queued until final; sent (WeChat took it), failed (a permanent refusal or retries
// used up: Reason says which), skipped (no WeChat bound), cancelled (the broadcast was). A mass
// broadcast's recipient within his monthly quota is tagged (not final either) until its mass send.
const (
	DeliveryQueued    = "queued"
	DeliveryTagged    = "tagged"
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

// Delivery.Via of a mass broadcast's recipients within their monthly quota: tagged (queued, waiting for
// the mass send) and then sent by it.
const (
	ViaTag  = "tag"
	ViaMass = "mass"
)

// BroadcastMass is the mass send (群发) of a broadcast whose Channel is SendMass. Its recipients within
// their monthly quota (MassQuota) are tagged with a WeChat tag made for it, in delivery id order
// (TagCursor: rows up to it are sorted, tagged or left to the per-recipient way), then one sendall to
// the tag (its clientmsgid makes a repeat harmless) reaches them all; the tag is deleted once WeChat
// reported the job (MASSSENDJOBFINISH) or after a while. Every step is recorded here, so a process
// killed anywhere resumes without sending twice.
type BroadcastMass struct {
	BroadcastID  uint       `gorm:"primaryKey;autoIncrement:false"`
	Month        int        `gorm:"not null"` // the quota month its messages count in (YYYYMM, China time)
	TagID        int64      `gorm:"not null"` // 0: not made yet
	TagCursor    uint64     `gorm:"not null"`
	Tagged       int        `gorm:"not null"` // recipients tagged (and quota reserved)
	TaggedAt     *time.Time // every recipient sorted
	Calls        int        `gorm:"not null"` // tag and mass-send API calls made
	Attempts     int        `gorm:"not null"` // sendall attempts refused with a retryable error
	DueAt        *time.Time // the next sendall attempt, after such a refusal
	ErrCode      int        `gorm:"not null"`
	Reason       string     `gorm:"size:64;not null"`
	MsgID        int64      `gorm:"not null;index"` // WeChat's msg_id of the mass send (0: unknown)
	SentAt       *time.Time // WeChat took the mass send
	FailedAt     *time.Time // given up: the tagged recipients failed with Reason
	Untagged     int        `gorm:"not null"` // recipients untagged before deleting a tag of more than 100,000
	UntagCursor  uint64     `gorm:"not null"`
	TagDeletedAt *time.Time
	// WeChat's report of the job (the MASSSENDJOBFINISH event).
	JobStatus   string `gorm:"size:32;not null"` // "send success", "send fail", "err(30003)"…
	TotalCount  int    `gorm:"not null"`
	FilterCount int    `gorm:"not null"` // not sent: over their monthly quota, or no longer following
	SentCount   int    `gorm:"not null"`
	ErrorCount  int    `gorm:"not null"`
	ReportedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MassQuota counts the mass messages a member was sent (or is reserved for) in a month: WeChat lets a
// service account's follower receive 4 a month. One row per member and month, updated in the
// transaction that tags (or untags) his delivery.
type MassQuota struct {
	MemberID uint `gorm:"primaryKey;autoIncrement:false"` // first: a batch looks up 1,000 members of one month
	Month    int  `gorm:"primaryKey;autoIncrement:false"` // YYYYMM, China time
	N        int  `gorm:"not null"`
}

// TableName keeps the plural (GORM would name it mass_quota).
func (MassQuota) TableName() string { return "mass_quotas" }

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
	return []any{&Broadcast{}, &BroadcastOrg{}, &Delivery{}, &BroadcastTally{}, &BroadcastMass{}, &MassQuota{}}
}
