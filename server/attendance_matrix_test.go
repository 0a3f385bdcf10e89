package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/models"
)

// The duty check-in part of the scope matrix (the lines are in TestScopeMatrix, under the attendance
// comment). The outside org gets a check-in place named after it and the outside member a check-in
// there today; the other county (青神县, outside every viewer's scope) a holiday and a farm season
// (attendOtherCounty): none of them may show, and none may change.

const attendOtherCounty = "外县节日"

// attendOutside makes (once) the outside org's place, the outside member's check-in of today and 青神县's
// holiday and farm season; it returns their ids.
func attendOutside(t *testing.T, e *matrixEnv, o outsider) (place, holiday, season string) {
	t.Helper()
	db := e.App.DB()
	var org models.Org
	if err := db.Take(&org, o.org).Error; err != nil {
		t.Fatal(err)
	}
	p := models.CheckPlace{OrgID: org.ID, Name: o.orgName + "活动室", Lat: 30.1, Lng: 103.9, Radius: 300, Active: true}
	if err := db.Where("org_id = ? AND name = ?", p.OrgID, p.Name).FirstOrCreate(&p).Error; err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now()
	ci := models.CheckIn{MemberID: uint(atoi(o.member)), OrgID: org.ID, Day: now.Format("2006-01-02"), Kind: models.CheckKindIn,
		At: now.Add(-time.Hour), PlaceID: &p.ID, Lat: 30.1, Lng: 103.9, Distance: 12, Status: models.CheckOK,
		Source: models.CheckSourceChat, Flags: "mock", DedupKey: "matrix:" + o.member}
	if err := db.Where("dedup_key = ?", ci.DedupKey).FirstOrCreate(&ci).Error; err != nil {
		t.Fatal(err)
	}
	var county models.Org
	if err := db.Where("path = ?", "青神县").Take(&county).Error; err != nil {
		t.Fatal(err)
	}
	h := models.Holiday{OrgID: county.ID, Day: "2026-12-10", Name: attendOtherCounty}
	if err := db.Where("org_id = ? AND name = ?", h.OrgID, h.Name).FirstOrCreate(&h).Error; err != nil {
		t.Fatal(err)
	}
	s := models.FarmSeason{OrgID: county.ID, Name: attendOtherCounty + "农忙假", StartDay: "2027-05-01", EndDay: "2027-06-30", Days: 21}
	if err := db.Where("org_id = ? AND name = ?", s.OrgID, s.Name).FirstOrCreate(&s).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(p.ID), fmt.Sprint(h.ID), fmt.Sprint(s.ID)
}

// attendOutsideUnchanged: the outside place, holiday and season are as made, no place, rule, holiday
// or season was added outside the viewer's scope.
func attendOutsideUnchanged(t *testing.T, e *matrixEnv, o outsider) {
	t.Helper()
	db := e.App.DB()
	var p models.CheckPlace
	if err := db.Where("org_id = ? AND name = ?", o.org, o.orgName+"活动室").Take(&p).Error; err != nil {
		t.Errorf("the outside place is gone or renamed: %v", err)
	} else if !p.Active || p.Radius != 300 || p.Lat != 30.1 {
		t.Errorf("the outside place changed: %+v", p)
	}
	for table, where := range map[string]string{
		"check_places": "name = '越界地点'",
		"duty_rules":   "late_grace = 77",
		"holidays":     "name = '越界节日'",
		"farm_seasons": "name = '越界农忙'",
	} {
		var n int64
		db.Table(table).Where(where).Count(&n)
		if n > 0 {
			t.Errorf("%s: a row was made outside %s's scope (%s)", table, o.user, where)
		}
	}
	var n int64
	db.Table("holidays").Where("name = ?", attendOtherCounty).Count(&n)
	if n != 1 {
		t.Errorf("the other county's holiday was deleted by %s", o.user)
	}
	db.Table("farm_seasons").Where("name = ?", attendOtherCounty+"农忙假").Count(&n)
	if n != 1 {
		t.Errorf("the other county's farm season was deleted by %s", o.user)
	}
}

// attendNoOtherCounty: a page shows nothing of the other county's calendar.
func attendNoOtherCounty(t *testing.T, what, body string) {
	t.Helper()
	if strings.Contains(body, attendOtherCounty) {
		t.Errorf("%s shows the other county's calendar", what)
	}
}

// countyOf is the id of the county above the outside org.
func attendCountyOf(t *testing.T, e *matrixEnv, o outsider) string {
	t.Helper()
	var path string
	e.App.DB().Table("orgs").Where("id = ?", o.org).Select("path").Row().Scan(&path)
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[:i]
	}
	return e.id(t, "orgs", "path = ?", path)
}
