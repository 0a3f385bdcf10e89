package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/models"
)

// The requests part of the scope matrix (the lines are in TestScopeMatrix, under the requests
// comment). The outside member gets a pending leave request with a reason naming his org: it may not
// show in a list, and nobody outside may decide it.

// requestOutside makes (once) the outside member's pending leave request and returns its id.
func requestOutside(t *testing.T, e *matrixEnv, o outsider) string {
	t.Helper()
	r := models.AttendRequest{MemberID: uint(atoi(o.member)), OrgID: uint(atoi(o.org)), Kind: models.RequestLeave,
		State: models.RequestPending, From: "2026-11-25", To: "2026-11-27", Reason: o.orgName + "农忙"}
	if err := e.App.DB().Where("member_id = ? AND reason = ?", r.MemberID, r.Reason).FirstOrCreate(&r).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(r.ID)
}

// requestOutsideUnchanged: the outside request is still pending, no make-up check-in was written, and
// no county's quota was set by someone outside it.
func requestOutsideUnchanged(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	var r models.AttendRequest
	if err := e.App.DB().Take(&r, requestOutside(t, e, o)).Error; err != nil {
		t.Fatal(err)
	}
	if r.State != models.RequestPending || r.DecidedBy != "" || r.Note != "" {
		t.Errorf("the outside request was decided by %s: %+v", o.user, r)
	}
	var n int64
	e.App.DB().Model(&models.RequestQuota{}).Where("leave_days = ?", 99).Count(&n)
	if n > 0 {
		t.Errorf("%s set a quota outside his scope", o.user)
	}
}

// outsideCounty is the id of the county the outside org belongs to.
func outsideCounty(t *testing.T, e *matrixEnv, o outsider) string {
	t.Helper()
	var org models.Org
	if err := e.App.DB().Take(&org, o.org).Error; err != nil {
		t.Fatal(err)
	}
	return e.id(t, "orgs", "path = ?", org.Path[:strings.IndexByte(org.Path, '/')])
}
