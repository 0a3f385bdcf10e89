package server

import (
	"context"
	"io"

	"github.com/yanzhen/yanzhen/bot"
)

// partHooks connect the parts wired in wire_*.go without making their packages import each other.
// A part sets the hooks it provides in its wire function; a caller checks for nil (a part may be
// absent) and calls them at run time, after every wire function has run.
type partHooks struct {
	// meetingCode checks the member in to the meeting with this code ("签到 CODE"). Set by wireMeetings,
	// called by the duty check-in's 签到 handler when the keyword has an argument.
	meetingCode func(ctx context.Context, c *bot.Context, code string) error
	// recompute rewrites the daily status (models.AttendanceDay) of these members for a day
	// "YYYY-MM-DD" (nil members: everyone). Set by wireAttendance; called after an approval changes a
	// past day.
	recompute func(ctx context.Context, memberIDs []uint, day string) error
	// importPolicy imports (or re-imports) one policy document; refreshPolicy brings every process's
	// index up to date after FAQs changed. Set by wirePolicy, called by the policy console.
	importPolicy  func(ctx context.Context, name string, r io.Reader) (PolicyImport, error)
	refreshPolicy func(ctx context.Context) error
}

// PolicyImport is the outcome of importing one policy document.
type PolicyImport struct {
	DocID    uint
	Title    string
	Passages int
	Changed  bool // false: the same text was imported before, nothing changed
}
