package broadcast

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// TestMarkAndRebuild: Mark sets ReadAt and AnsweredAt the first time only and counts each once per org
// (answered counts as read); a member with no delivery changes nothing; rebuilding the tallies from
// the rows (a cancel, the end) keeps the read and answered figures.
func TestMarkAndRebuild(t *testing.T) {
	r := newRig(t)
	seed(t, r.db, "测试县", 1, 2, 6)
	ctx := context.Background()
	var ms []models.Member
	r.db.Order("id").Find(&ms)
	b := models.Broadcast{Kind: models.BroadcastNotice, Text: "x", OrgPath: "测试县", Status: models.BroadcastDone, CreatedBy: "test"}
	if err := r.db.Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:5] { // ms[5] got nothing
		d := models.Delivery{BroadcastID: b.ID, MemberID: m.ID, OrgID: m.OrgID, OpenID: "o", Status: models.DeliverySent}
		if err := r.db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := rebuildTallies(r.db, b.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	mark := func(m models.Member, answered bool, want int) {
		t.Helper()
		n, err := Mark(ctx, r.db, now, m.ID, []uint{b.ID}, answered)
		if err != nil || n != want {
			t.Fatalf("Mark(%s, %v) = %d %v, want %d", m.Name, answered, n, err, want)
		}
	}
	mark(ms[0], false, 1)
	mark(ms[0], false, 0) // again: nothing
	mark(ms[1], true, 1)  // answered: read and answered at once
	mark(ms[1], true, 0)
	mark(ms[0], true, 1) // read before, answered now
	mark(ms[5], false, 0)
	now = now.Add(time.Hour)
	mark(ms[2], false, 1)
	var d0 models.Delivery
	r.db.Where("broadcast_id = ? AND member_id = ?", b.ID, ms[0].ID).Take(&d0)
	if d0.ReadAt == nil || d0.AnsweredAt == nil || !d0.ReadAt.Equal(now.Add(-time.Hour)) {
		t.Fatalf("first read kept: %+v", d0)
	}
	check := func(when string) {
		t.Helper()
		p, err := r.svc.Progress(ctx, scope.Everything(), b.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if p.Sent != 5 || p.Read != 3 || p.Answered != 2 || p.Total() != 5 || p.ReadRate() != 60 {
			t.Fatalf("%s: %+v", when, p.Counts)
		}
		var read int64
		for _, u := range p.Units {
			read += u.Read
		}
		if read != 3 || len(p.Units) != 2 {
			t.Fatalf("%s: units %+v", when, p.Units)
		}
	}
	check("kept as they came")
	if err := rebuildTallies(r.db, b.ID); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}

// TestNoRemindingUnreadOfAMassNotice: mass recipients all get one message without a personal link, so
// nobody of them is ever "read"; reminding the unread would send to every one of them again.
func TestNoRemindingUnreadOfAMassNotice(t *testing.T) {
	s := &Service{now: time.Now}
	b := models.Broadcast{Kind: models.BroadcastNotice, Channel: models.SendMass, Status: models.BroadcastDone}
	if why := s.CanRemind(&b, nil); why == "" || !strings.Contains(why, "群发") {
		t.Fatalf("CanRemind(mass notice) = %q", why)
	}
}
