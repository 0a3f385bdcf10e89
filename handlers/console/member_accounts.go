package console

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// DeactivateMemberAccounts stops the console login of a member who is being deactivated (he left his
// post), in the transaction that deactivates him, and audits it. His sessions and API tokens stop at
// once: every request checks that its account is active.
func (s *Service) DeactivateMemberAccounts(ctx context.Context, tx *gorm.DB, v *Viewer, memberID uint) error {
	var accts []models.Account
	if err := tx.WithContext(ctx).Preload("Org").Where("member_id = ? AND active = ?", memberID, true).Find(&accts).Error; err != nil {
		return fmt.Errorf("console: accounts of member %d: %w", memberID, err)
	}
	for i := range accts {
		a := &accts[i]
		path := ""
		if a.Org != nil {
			path = a.Org.Path
		}
		before := auditOfAccount(a, path)
		if err := tx.WithContext(ctx).Model(&models.Account{}).Where("id = ?", a.ID).
			Updates(map[string]any{"active": false, "updated_at": s.now()}).Error; err != nil {
			return fmt.Errorf("console: deactivate account %d: %w", a.ID, err)
		}
		a.Active = false
		if err := s.Record(ctx, tx, v, Change{Action: ActionDeactivate, Object: "account", ObjectID: a.ID, OrgPath: path,
			Summary: fmt.Sprintf("停用账号 %s（人员已停用）", a.Username), Before: before, After: auditOfAccount(a, path)}); err != nil {
			return err
		}
	}
	return nil
}
