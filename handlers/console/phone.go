package console

import (
	"strings"

	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/web"
)

// Who sees members' whole phone numbers (issue 8): lists and the API's lists mask them for everybody
// (138****1234) and a member's own page shows his number; an export shows whole numbers only to the
// administrators of the whole installation, a county or a town, who use them to phone people. Village
// secretaries and administrators of a village get masked numbers. Every export that carries phone
// numbers writes them through Viewer.ExportPhone.

// SeesWholePhones reports whether the viewer's exports carry whole phone numbers: an administrator
// whose scope is the installation or a county or town org (an org's level is its path's depth).
func (v *Viewer) SeesWholePhones() bool {
	if !v.IsAdmin() {
		return false
	}
	if v.Scope.All {
		return true
	}
	return v.Scope.Path != "" && strings.Count(v.Scope.Path, "/")+1 <= models.LevelTown
}

// ExportPhone is phone number p as it goes into the viewer's export: whole when SeesWholePhones,
// else masked as in lists.
func (v *Viewer) ExportPhone(p string) string {
	if v.SeesWholePhones() {
		return p
	}
	return web.MaskPhone(p)
}
