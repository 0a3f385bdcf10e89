package console

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/models"
)

// Audit actions.
const (
	ActionCreate     = "create"
	ActionUpdate     = "update"
	ActionMove       = "move"
	ActionDeactivate = "deactivate"
	ActionActivate   = "activate"
	ActionImport     = "import"
	ActionExport     = "export"
	ActionView       = "view" // personal data looked at
	ActionLogin      = "login"
	ActionLogout     = "logout"
	ActionRevoke     = "revoke"
)

// ActionNames are the actions as users read them.
var ActionNames = map[string]string{
	ActionCreate: "新建", ActionUpdate: "修改", ActionMove: "调动", ActionDeactivate: "停用", ActionActivate: "启用",
	ActionImport: "导入", ActionExport: "导出", ActionView: "查看", ActionLogin: "登录", ActionLogout: "退出", ActionRevoke: "吊销",
}

// Change is one entry of the audit log: what was done to which object, in which org, and the object
// before and after (any JSON-able value, nil when there is none).
type Change struct {
	Action   string
	Object   string // "member", "org", "account", "token", "roster", ...
	ObjectID any
	OrgPath  string // where the object lives: who may read the entry
	Summary  string // one line for people, in Chinese
	Before   any
	After    any
}

// Record writes a change to the audit log on db (pass the transaction that made the change, so the
// change and its record commit together).
func (s *Service) Record(ctx context.Context, db *gorm.DB, v *Viewer, ch Change) error {
	if db == nil {
		db = s.db
	}
	e := models.AuditEntry{
		At: s.now(), Username: "system", OrgPath: ch.OrgPath, Action: ch.Action, Object: ch.Object,
		ObjectID: fmt.Sprint(ch.ObjectID), Summary: clip(ch.Summary, 250),
	}
	if ch.ObjectID == nil {
		e.ObjectID = ""
	}
	if v != nil {
		id := v.AccountID
		e.AccountID, e.Username, e.IP = &id, v.Username, v.IP
	}
	var err error
	if e.Before, err = toJSON(ch.Before); err != nil {
		return err
	}
	if e.After, err = toJSON(ch.After); err != nil {
		return err
	}
	if err := db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("console: audit %s %s: %w", ch.Action, ch.Object, err)
	}
	return nil
}

func toJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("console: audit value: %w", err)
	}
	return string(b), nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
