package scope

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// OrgRef names an org on the pages and in the API of the figures (study progress, attendance reports).
type OrgRef struct {
	ID    uint   `json:"id"`
	Path  string `json:"path"`
	Name  string `json:"name"`
	Level int    `json:"level"`
}

// RefOf is the OrgRef of an org.
func RefOf(o *models.Org) OrgRef { return OrgRef{ID: o.ID, Path: o.Path, Name: o.Name, Level: o.Level} }

// FindOrg is the org with this id if it is in the scope, else ErrNotFound.
func FindOrg(ctx context.Context, db *gorm.DB, sc Scope, id uint) (*OrgRef, error) {
	var orgs []models.Org
	if err := db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path, level").
		Where("orgs.id = ?", id).Limit(1).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("scope: org %d: %w", id, err)
	}
	if len(orgs) == 0 {
		return nil, ErrNotFound
	}
	ref := RefOf(&orgs[0])
	return &ref, nil
}

// RootOrg is the org a page looks at: id when given (in the scope), else the viewer's own org; nil for
// a viewer of the whole installation who chose none.
func RootOrg(ctx context.Context, db *gorm.DB, sc Scope, id uint) (*OrgRef, error) {
	switch {
	case id != 0:
		return FindOrg(ctx, db, sc, id)
	case sc.All:
		return nil, nil
	}
	return FindOrg(ctx, db, sc, sc.OrgID)
}

// Trail is the orgs above root that are in the scope, top first (a page's breadcrumbs).
func Trail(ctx context.Context, db *gorm.DB, sc Scope, root *OrgRef) ([]OrgRef, error) {
	var paths []string
	for i := len(root.Path) - 1; i > 0; i-- {
		if root.Path[i] == '/' && sc.Contains(root.Path[:i]) {
			paths = append(paths, root.Path[:i])
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	var orgs []models.Org
	if err := db.WithContext(ctx).Model(&models.Org{}).Scopes(sc.Orgs).Select("id, name, path, level").
		Where("orgs.path IN ?", paths).Order("level").Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("scope: org trail: %w", err)
	}
	out := make([]OrgRef, len(orgs))
	for i := range orgs {
		out[i] = RefOf(&orgs[i])
	}
	return out, nil
}
