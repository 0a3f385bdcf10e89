package roster

import (
	"context"
	"strings"
	"testing"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/models"
)

func TestLoadDemo(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	res, err := s.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Members) != 40 {
		t.Fatalf("%d demo members", len(res.Members))
	}
	roles := map[string]map[string]int{} // org → role → count
	codes := map[string]bool{}
	for _, m := range res.Members {
		if roles[m.OrgPath] == nil {
			roles[m.OrgPath] = map[string]int{}
		}
		roles[m.OrgPath][m.Role]++
		codes[m.BindCode] = true
		if NormalizeCode(m.BindCode) == "" || m.ID == 0 {
			t.Fatalf("member %+v", m)
		}
		if _, ok := NormalizePhone(m.Phone); !ok {
			t.Fatalf("demo phone %q", m.Phone)
		}
	}
	if len(codes) != 40 {
		t.Fatal("demo codes not unique")
	}
	if roles["洪雅县"][models.RoleAdmin] != 1 {
		t.Fatalf("county roles = %v", roles["洪雅县"])
	}
	villages := 0
	for path, rs := range roles {
		if strings.Count(path, "/") == 2 {
			villages++
			if rs[models.RoleSecretary] != 1 || rs[models.RoleAide] != 1 || rs[models.RoleMember] < 1 {
				t.Errorf("%s roles = %v", path, rs)
			}
		}
	}
	var orgs []models.Org
	db.Find(&orgs)
	if villages != 11 || len(orgs) != 1+3+11 {
		t.Fatalf("%d villages with members, %d orgs", villages, len(orgs))
	}

	// Demo codes bind.
	m, err := s.Bind(ctx, bot.ChannelOA, "o-demo", res.Members[1].BindCode)
	if err != nil || m.Name != res.Members[1].Name {
		t.Fatalf("bind demo member: %+v, %v", m, err)
	}

	// A database with orgs is left alone.
	again, err := s.LoadDemo(ctx)
	if err != nil || len(again.Members) != 0 {
		t.Fatalf("second LoadDemo = %+v, %v", again, err)
	}
	if n := countMembers(t, db); n != 40 {
		t.Fatalf("%d members after second LoadDemo", n)
	}
}
