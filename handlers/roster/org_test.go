package roster

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/models"
)

func TestEnsureOrgPath(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()

	village, err := s.EnsureOrgPath(ctx, nil, " 洪雅县 / 花溪镇／郭沟村 ")
	if err != nil {
		t.Fatal(err)
	}
	if village.Path != "洪雅县/花溪镇/郭沟村" || village.Name != "郭沟村" || village.Level != models.LevelVillage {
		t.Fatalf("village = %+v", village)
	}
	again, err := s.EnsureOrgPath(ctx, nil, "洪雅县/花溪镇/郭沟村")
	if err != nil || again.ID != village.ID {
		t.Fatalf("second EnsureOrgPath = %+v, %v; want the same org", again, err)
	}
	group, err := s.EnsureOrgPath(ctx, db, "洪雅县/花溪镇/郭沟村/第一党小组")
	if err != nil || group.Level != 4 || group.ParentID == nil || *group.ParentID != village.ID {
		t.Fatalf("group = %+v, %v", group, err)
	}

	var orgs []models.Org
	db.Order("level").Find(&orgs)
	if len(orgs) != 4 {
		t.Fatalf("%d orgs, want 4", len(orgs))
	}
	if orgs[0].Level != models.LevelCounty || orgs[0].ParentID != nil || orgs[1].Level != models.LevelTown || *orgs[1].ParentID != orgs[0].ID {
		t.Fatalf("tree = %+v", orgs)
	}
}

func TestParseOrgPathRefuses(t *testing.T) {
	for _, p := range []string{
		"", "  ", "洪雅县//郭沟村", "/洪雅县", "洪雅县/花溪镇/", "洪雅县/ /郭沟村",
		"洪雅县/" + strings.Repeat("村", 65), "洪雅县/花\x01溪镇",
	} {
		if _, _, err := ParseOrgPath(p); !errors.Is(err, ErrBadOrgPath) {
			t.Errorf("ParseOrgPath(%q) = %v, want ErrBadOrgPath", p, err)
		}
	}
	if _, _, err := ParseOrgPath("洪雅县/" + strings.Repeat("村", 64)); err != nil {
		t.Errorf("64-character name refused: %v", err)
	}
}
