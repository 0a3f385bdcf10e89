package broadcast

import (
	"context"
	"time"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The console's and the API's view of a broadcast's channel and mass send (群发).

// ChannelName is how the broadcast goes out, as people read it.
func (r row) ChannelName() string { return ChannelNames[r.Channel] }

// IsMass reports whether the broadcast goes by mass send.
func (r row) IsMass() bool { return r.Channel == models.SendMass }

// massFor is broadcast b's mass job for a viewer with scope sc: nil when it has none, or when his part of
// the tree does not hold the whole audience (the job's figures are the whole audience's).
func (h *Web) massFor(ctx context.Context, sc scope.Scope, b *models.Broadcast) (*models.BroadcastMass, error) {
	if b.Channel != models.SendMass || len(b.Orgs) == 0 {
		return nil, nil
	}
	for _, o := range b.Orgs {
		if !sc.Contains(o.Path) {
			return nil, nil
		}
	}
	return h.s.MassOf(ctx, b.ID)
}

// apiMass is a mass send as the API shows it.
type apiMass struct {
	Tagged   int        `json:"tagged"`    // recipients tagged (the others went one by one, or not at all)
	Sorted   bool       `json:"sorted"`    // every recipient tagged or left to the per-recipient way
	SentAt   *time.Time `json:"sent_at"`   // WeChat took the mass send
	MsgID    int64      `json:"msg_id"`    // WeChat's msg_id (0: unknown)
	Attempts int        `json:"attempts"`  // sends refused with a retryable error
	Failed   bool       `json:"failed"`    // given up (Reason says why)
	ErrCode  int        `json:"errcode"`   // WeChat's last refusal
	Reason   string     `json:"reason"`    // its reason, as people read it
	Calls    int        `json:"api_calls"` // tag and mass-send API calls made
	// Report is WeChat's report of the finished job (MASSSENDJOBFINISH); null until it came.
	Report *apiMassReport `json:"report"`
	// TagDeleted: the job's WeChat tag is deleted (after the report, or an hour after the send).
	TagDeleted bool `json:"tag_deleted"`
}

type apiMassReport struct {
	Status      string    `json:"status"` // "send success", "send fail", "err(30003)"…
	TotalCount  int       `json:"total_count"`
	FilterCount int       `json:"filter_count"` // not sent: over their monthly 4, no longer following…
	SentCount   int       `json:"sent_count"`
	ErrorCount  int       `json:"error_count"`
	At          time.Time `json:"at"`
}

func toAPIMass(j *models.BroadcastMass) *apiMass {
	if j == nil {
		return nil
	}
	out := &apiMass{Tagged: j.Tagged, Sorted: j.TaggedAt != nil, SentAt: j.SentAt, MsgID: j.MsgID, Attempts: j.Attempts,
		Failed: j.FailedAt != nil, ErrCode: j.ErrCode, Reason: j.Reason, Calls: j.Calls, TagDeleted: j.TagDeletedAt != nil}
	if j.ReportedAt != nil {
		out.Report = &apiMassReport{Status: j.JobStatus, TotalCount: j.TotalCount, FilterCount: j.FilterCount, SentCount: j.SentCount,
			ErrorCount: j.ErrorCount, At: *j.ReportedAt}
	}
	return out
}

// MassStatus is WeChat's report's status as people read it.
func (p pageData) MassStatus() string {
	if p.Mass == nil {
		return ""
	}
	switch p.Mass.JobStatus {
	case "send success":
		return "发送成功"
	case "send fail":
		return "发送失败"
	}
	return "未发送（" + p.Mass.JobStatus + "）"
}
