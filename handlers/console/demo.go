package console

import (
	"context"
	"fmt"

	"github.com/yanzhen/yanzhen/models"
)

// DemoPassword is the password of the demo console accounts (`yanzhen serve --demo` only).
const DemoPassword = "yanzhen"

// DemoAccount is a console login made for the demo.
type DemoAccount struct {
	Username, Role, OrgPath string
}

// LoadDemoAccounts gives the demo county three console logins, one per kind of user: a county
// administrator, a town administrator (花溪镇) and the secretary of 郭沟村 (linked to his roster entry).
// Existing usernames are left alone. It returns the accounts it made.
func (s *Service) LoadDemoAccounts(ctx context.Context) ([]DemoAccount, error) {
	demo := []struct {
		user, name, role, org, member string
	}{
		{"county", "县委组织部", models.ConsoleAdmin, "洪雅县", ""},
		{"huaxi", "花溪镇党委", models.ConsoleAdmin, "洪雅县/花溪镇", ""},
		{"guogou", "郭沟村书记", models.ConsoleSecretary, "洪雅县/花溪镇/郭沟村", models.RoleSecretary},
	}
	var made []DemoAccount
	for _, d := range demo {
		var org models.Org
		if err := s.db.WithContext(ctx).Where("path = ?", d.org).Take(&org).Error; err != nil {
			return made, fmt.Errorf("console: demo org %s: %w", d.org, err)
		}
		a := models.Account{Username: d.user, DisplayName: d.name, Role: d.role, OrgID: &org.ID, Active: true}
		if d.member != "" {
			var m models.Member
			if err := s.db.WithContext(ctx).Where("org_id = ? AND role = ?", org.ID, d.member).Order("id").Take(&m).Error; err == nil {
				a.MemberID = &m.ID
				a.DisplayName = m.Name
			}
		}
		ok, err := s.ensureAccount(ctx, a, DemoPassword)
		if err != nil {
			return made, err
		}
		if ok {
			made = append(made, DemoAccount{Username: d.user, Role: d.role, OrgPath: d.org})
		}
	}
	return made, nil
}
