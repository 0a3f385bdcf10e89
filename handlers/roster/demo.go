package roster

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/models"
)

// DemoResult is what LoadDemo loaded: every demo member with his bind code. Empty when the database
// already had orgs and nothing was loaded.
type DemoResult struct {
	Members []UnboundMember
}

// demoCounty is the demo org tree: a county, its towns and their villages.
var demoCounty = struct {
	name  string
	towns []struct {
		name     string
		villages []string
	}
}{
	name: "洪雅县",
	towns: []struct {
		name     string
		villages []string
	}{
		{"花溪镇", []string{"郭沟村", "双河村", "张沟村", "杨村"}},
		{"止戈镇", []string{"五龙村", "青杠村", "石桥村"}},
		{"余坪镇", []string{"楠木村", "黄金村", "复兴村", "团结村"}},
	},
}

// demoNames are the demo members, in the order they are handed out: the county administrator, then per
// village its 书记, its 党建专干 and one or two 党员.
var demoNames = []string{
	"周建平",
	"张国华", "李秀英", "王德明", "刘桂兰",
	"陈志强", "杨丽华", "赵永福",
	"黄春梅", "吴海军", "徐淑芬", "孙玉珍",
	"马文斌", "朱红霞", "胡国庆",
	"郭晓燕", "何建军", "林秀珍", "罗志刚",
	"高翠兰", "梁宏伟", "宋雪梅",
	"郑大勇", "谢芳", "韩明亮", "唐玉兰",
	"冯建华", "于海燕", "董文杰",
	"程国强", "曹丽娟", "袁志华", "邓秀兰",
	"许德华", "傅春燕", "沈建军",
	"曾桂芳", "彭友良", "吕红梅", "蒋成林",
}

// LoadDemo fills an empty database with the demo county (洪雅县, 3 towns, 11 villages, 40 members, each
// village with a 书记, a 党建专干 and 党员, and a county 管理员). It does nothing when any org exists.
// Names and phone numbers are fixed; bind codes are random.
func (s *Service) LoadDemo(ctx context.Context) (*DemoResult, error) {
	res := &DemoResult{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Org{}).Count(&n).Error; err != nil {
			return fmt.Errorf("roster: demo: count orgs: %w", err)
		}
		if n > 0 {
			return nil
		}
		type seat struct{ role, path string }
		seats := []seat{{models.RoleAdmin, demoCounty.name}}
		var paths []string
		i := 0
		for _, t := range demoCounty.towns {
			for _, v := range t.villages {
				p := demoCounty.name + "/" + t.name + "/" + v
				paths = append(paths, p)
				seats = append(seats, seat{models.RoleSecretary, p}, seat{models.RoleAide, p}, seat{models.RoleMember, p})
				if i%2 == 0 {
					seats = append(seats, seat{models.RoleMember, p})
				}
				i++
			}
		}
		if len(seats) != len(demoNames) {
			return fmt.Errorf("roster: demo: %d seats for %d names", len(seats), len(demoNames))
		}
		orgs, err := s.ensureOrgs(ctx, tx, paths)
		if err != nil {
			return err
		}
		codes, err := freshCodes(tx, len(seats))
		if err != nil {
			return err
		}
		now := s.now()
		ms := make([]*models.Member, len(seats))
		for i, st := range seats {
			ms[i] = &models.Member{
				Name: demoNames[i], Phone: fmt.Sprintf("1380000%04d", i+1), Role: st.role,
				OrgID: orgs[st.path].ID, BindCode: &codes[i], Active: true, CreatedAt: now, UpdatedAt: now,
			}
			res.Members = append(res.Members, UnboundMember{
				Name: ms[i].Name, Phone: ms[i].Phone, Role: st.role, OrgPath: st.path, BindCode: codes[i],
			})
		}
		if err := tx.Omit(clause.Associations).Create(ms).Error; err != nil {
			return fmt.Errorf("roster: demo: create members: %w", err)
		}
		for i, m := range ms {
			res.Members[i].ID = m.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
