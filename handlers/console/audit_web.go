package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// auditActions are the actions in the order the filter offers them.
var auditActions = []string{ActionCreate, ActionUpdate, ActionMove, ActionDeactivate, ActionActivate, ActionRevoke,
	ActionImport, ActionExport, ActionView, ActionLogin, ActionLogout}

// auditObjects are the objects the filter offers, and how users read them.
var auditObjects = []selectOption{
	{"account", "账号"}, {"token", "API 令牌"}, {"member", "成员"}, {"org", "组织"}, {"roster", "花名册"}, {"export", "导出文件"},
}

// auditFields are the fields of before/after values as users read them (others show their key).
var auditFields = map[string]string{
	"username": "用户名", "display_name": "姓名", "role": "角色", "org": "组织", "member_id": "成员编号",
	"active": "启用", "password": "密码", "account": "账号", "name": "名称", "prefix": "令牌开头", "expires_at": "到期时间",
	"file": "文件", "title": "标题", "filters": "筛选条件", "rows": "行数", "phone": "手机号", "path": "组织",
}

// maxExportRows bounds an export (the newest rows are kept).
const maxExportRows = 50000

// selectOption is one choice of a <select>.
type selectOption struct{ Value, Label string }

// auditRow is an audit entry in a list or on its page.
type auditRow struct{ models.AuditEntry }

// ActionName is the action as users read it.
func (e auditRow) ActionName() string { return actionName(e.Action) }

// ObjectName is the object as users read it.
func (e auditRow) ObjectName() string { return objectName(e.Object) }

// OrgName is where the entry belongs.
func (e auditRow) OrgName() string { return orgLabel(e.OrgPath) }

func actionName(a string) string {
	if n, ok := ActionNames[a]; ok {
		return n
	}
	return a
}

func objectName(o string) string {
	for _, x := range auditObjects {
		if x.Value == o {
			return x.Label
		}
	}
	return o
}

// auditFilter selects audit entries: q in the summary or the username, an action, an object (and
// its id), and a date range in the console's time zone (both days included).
type auditFilter struct {
	Q, Action, Object, ObjectID string
	From, To                    string // as given, YYYY-MM-DD
	from, to                    time.Time
}

const auditDateLayout = "2006-01-02"

// parseAuditFilter reads ?q=&action=&object=&object_id=&from=&to=.
func (s *Service) parseAuditFilter(q ListQuery) (auditFilter, error) {
	f := auditFilter{Q: q.Q, Action: q.Get("action"), Object: q.Get("object"), ObjectID: q.Get("object_id"), From: q.Get("from"), To: q.Get("to")}
	if f.Action != "" {
		if _, ok := ActionNames[f.Action]; !ok {
			return f, Invalid("action", "没有「%s」这种操作。", f.Action)
		}
	}
	if utf8.RuneCountInString(f.Object) > 32 || utf8.RuneCountInString(f.ObjectID) > 64 {
		return f, Invalid("object", "对象太长了。")
	}
	var err error
	if f.From != "" {
		if f.from, err = time.ParseInLocation(auditDateLayout, f.From, s.loc); err != nil {
			return f, Invalid("from", "开始日期应写成 2026-01-31 这样。")
		}
	}
	if f.To != "" {
		if f.to, err = time.ParseInLocation(auditDateLayout, f.To, s.loc); err != nil {
			return f, Invalid("to", "结束日期应写成 2026-01-31 这样。")
		}
		f.to = f.to.AddDate(0, 0, 1)
	}
	if !f.from.IsZero() && !f.to.IsZero() && !f.from.Before(f.to) {
		return f, Invalid("to", "结束日期不能早于开始日期。")
	}
	return f, nil
}

// Filters are the filters as the export's header row shows them.
func (f auditFilter) Filters(v *Viewer) []xlsxout.Filter {
	out := []xlsxout.Filter{{Name: "范围", Value: scopeLabel(v)}}
	add := func(name, val string) {
		if val != "" {
			out = append(out, xlsxout.Filter{Name: name, Value: val})
		}
	}
	add("关键词", f.Q)
	if f.Action != "" {
		add("操作", actionName(f.Action))
	}
	if f.Object != "" {
		add("对象", objectName(f.Object))
	}
	add("对象编号", f.ObjectID)
	add("开始日期", f.From)
	add("结束日期", f.To)
	return out
}

func scopeLabel(v *Viewer) string {
	if v.Scope.All {
		return "全部"
	}
	return v.Scope.Path
}

// auditIn is the audit entries the viewer may read: those of orgs in his scope, and those of no org
// only for a viewer of the whole installation.
func (s *Service) auditIn(ctx context.Context, v *Viewer) *gorm.DB {
	return s.db.WithContext(ctx).Model(&models.AuditEntry{}).Scopes(v.Scope.ByPath("audit_entries.org_path"))
}

func (s *Service) filterAudit(db *gorm.DB, f auditFilter) *gorm.DB {
	if f.Q != "" {
		like := likeContains(strings.ToLower(f.Q))
		db = db.Where("(LOWER(audit_entries.summary) LIKE ? ESCAPE '!' OR LOWER(audit_entries.username) LIKE ? ESCAPE '!')", like, like)
	}
	if f.Action != "" {
		db = db.Where("audit_entries.action = ?", f.Action)
	}
	if f.Object != "" {
		db = db.Where("audit_entries.object = ?", f.Object)
	}
	if f.ObjectID != "" {
		db = db.Where("audit_entries.object_id = ?", f.ObjectID)
	}
	// Times are compared in the location the clock writes them in: SQLite compares them as text.
	loc := s.now().Location()
	if !f.from.IsZero() {
		db = db.Where("audit_entries.at >= ?", f.from.In(loc))
	}
	if !f.to.IsZero() {
		db = db.Where("audit_entries.at < ?", f.to.In(loc))
	}
	return db
}

const auditListColumns = "id, at, account_id, username, org_path, action, object, object_id, summary, ip"

// listAudit is the newest entries matching f from offset (limit < 0: all), with their before and
// after values when withValues.
func (s *Service) listAudit(ctx context.Context, v *Viewer, f auditFilter, offset, limit int, withValues bool) ([]auditRow, int64, error) {
	base := s.filterAudit(s.auditIn(ctx, v), f)
	var total int64
	if err := base.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("console: count audit entries: %w", err)
	}
	db := base.Session(&gorm.Session{}).Order("audit_entries.at DESC, audit_entries.id DESC").Offset(offset)
	if limit >= 0 {
		db = db.Limit(limit)
	}
	if !withValues {
		db = db.Select(auditListColumns)
	}
	var es []models.AuditEntry
	if err := db.Find(&es).Error; err != nil {
		return nil, 0, fmt.Errorf("console: list audit entries: %w", err)
	}
	rows := make([]auditRow, len(es))
	for i := range es {
		rows[i] = auditRow{es[i]}
	}
	return rows, total, nil
}

type auditPage struct {
	Q       ListQuery
	F       auditFilter
	Pager   Pager
	Rows    []auditRow
	Actions []selectOption
	Objects []selectOption
	Err     string
}

func (p auditPage) PageError() string { return p.Err }

// AuditPage is GET /console/audit.
func (s *Service) AuditPage(c *gin.Context) {
	v := ViewerOf(c)
	q := ParseList(c)
	q.PerPage = min(q.PerPage, 200)
	p := auditPage{Q: q}
	f, err := s.parseAuditFilter(q)
	if err != nil {
		if !formError(err, &p.Err, new(string)) {
			s.Fail(c, err)
			return
		}
		f = auditFilter{Q: f.Q}
	}
	p.F = f
	for _, a := range auditActions {
		p.Actions = append(p.Actions, selectOption{a, actionName(a)})
	}
	p.Objects = append(p.Objects, auditObjects...)
	if f.Object != "" && objectName(f.Object) == f.Object {
		p.Objects = append(p.Objects, selectOption{f.Object, f.Object})
	}
	var total int64
	if p.Rows, total, err = s.listAudit(c.Request.Context(), v, f, q.Offset(), q.PerPage, false); err != nil {
		s.Fail(c, err)
		return
	}
	p.Pager = q.Pager(total)
	status := http.StatusOK
	if p.Err != "" {
		status = http.StatusBadRequest
	}
	s.Page(c, status, "audit", "audit", "操作日志", p)
}

// fieldDiff is one field of an entry's before and after values.
type fieldDiff struct {
	Key, Label    string
	Before, After string
	InBefore      bool
	InAfter       bool
	Changed       bool // present on both sides, with different values
}

// diffValues compares the before and after values of an entry field by field (one row for the whole
// value when they are not both objects).
func diffValues(before, after string) []fieldDiff {
	parse := func(s string) (any, bool) {
		if s == "" {
			return nil, false
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return s, true // not JSON: shown as it is
		}
		return v, true
	}
	b, hasB := parse(before)
	a, hasA := parse(after)
	bm, bObj := b.(map[string]any)
	am, aObj := a.(map[string]any)
	if (bObj || !hasB) && (aObj || !hasA) && (hasA || hasB) {
		keys := map[string]bool{}
		for k := range bm {
			keys[k] = true
		}
		for k := range am {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		out := make([]fieldDiff, 0, len(sorted))
		for _, k := range sorted {
			bv, inB := bm[k]
			av, inA := am[k]
			d := fieldDiff{Key: k, Label: auditFields[k], InBefore: inB, InAfter: inA}
			if d.Label == "" {
				d.Label = k
			}
			if inB {
				d.Before = prettyValue(bv)
			}
			if inA {
				d.After = prettyValue(av)
			}
			d.Changed = hasA && hasB && (inA != inB || !reflect.DeepEqual(av, bv))
			out = append(out, d)
		}
		// Changed fields first: they are what the reader came for.
		sort.SliceStable(out, func(i, j int) bool { return out[i].Changed && !out[j].Changed })
		return out
	}
	if !hasA && !hasB {
		return nil
	}
	return []fieldDiff{{Key: "", Label: "内容", Before: prettyValue(b), After: prettyValue(a), InBefore: hasB, InAfter: hasA,
		Changed: hasA && hasB && !reflect.DeepEqual(a, b)}}
}

// prettyValue shows a JSON value: strings as they are, the rest as indented JSON.
func prettyValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// prettyJSON indents a stored JSON value ("" stays "").
func prettyJSON(s string) string {
	if s == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

type auditEntryPage struct {
	Entry         auditRow
	Fields        []fieldDiff
	Before, After string // the whole values, indented
}

// auditEntry is one entry the viewer may read, or scope.ErrNotFound.
func (s *Service) auditEntry(ctx context.Context, v *Viewer, id uint64) (*models.AuditEntry, error) {
	var e models.AuditEntry
	err := s.auditIn(ctx, v).Where("audit_entries.id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, scope.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("console: load audit entry %d: %w", id, err)
	}
	return &e, nil
}

// AuditEntryPage is GET /console/audit/:id: the entry with its before and after side by side.
func (s *Service) AuditEntryPage(c *gin.Context) {
	v := ViewerOf(c)
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		s.Fail(c, scope.ErrNotFound)
		return
	}
	e, err := s.auditEntry(c.Request.Context(), v, id)
	if err != nil {
		s.Fail(c, err)
		return
	}
	p := auditEntryPage{Entry: auditRow{*e}, Fields: diffValues(e.Before, e.After), Before: prettyJSON(e.Before), After: prettyJSON(e.After)}
	s.Page(c, http.StatusOK, "audit_entry", "audit", "操作记录", p)
}

// AuditExport is GET /console/audit/export.xlsx with the list's filters.
func (s *Service) AuditExport(c *gin.Context) {
	v := ViewerOf(c)
	f, err := s.parseAuditFilter(ParseList(c))
	if err != nil {
		s.Fail(c, err)
		return
	}
	rows, total, err := s.listAudit(c.Request.Context(), v, f, 0, maxExportRows, false)
	if err != nil {
		s.Fail(c, err)
		return
	}
	t := xlsxout.Table{Title: "操作日志", Filters: f.Filters(v),
		Columns: []string{"时间", "账号", "操作", "对象", "对象编号", "组织", "摘要", "IP"}}
	if total > int64(len(rows)) {
		t.Filters = append(t.Filters, xlsxout.Filter{Name: "说明", Value: fmt.Sprintf("共 %d 条，只导出最新的 %d 条", total, len(rows))})
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, []any{r.At, r.Username, r.ActionName(), r.ObjectName(), r.ObjectID, r.OrgName(), r.Summary, r.IP})
	}
	s.SendXLSX(c, "操作日志", t)
}

// APIAuditEntry is an audit entry in the API.
type APIAuditEntry struct {
	ID         uint64          `json:"id"`
	At         time.Time       `json:"at"`
	AccountID  *uint           `json:"account_id"`
	Username   string          `json:"username"`
	OrgPath    string          `json:"org_path"`
	Action     string          `json:"action"`
	ActionName string          `json:"action_name"`
	Object     string          `json:"object"`
	ObjectID   string          `json:"object_id"`
	Summary    string          `json:"summary"`
	IP         string          `json:"ip"`
	Before     json.RawMessage `json:"before"` // null when there is none
	After      json.RawMessage `json:"after"`
}

func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

// AuditAPI is GET /api/v1/audit: ?q=&action=&object=&object_id=&from=&to=&page=&per_page=, newest first.
func (s *Service) AuditAPI(c *gin.Context) {
	v := ViewerOf(c)
	q := ParseList(c)
	f, err := s.parseAuditFilter(q)
	if err != nil {
		s.Fail(c, err)
		return
	}
	rows, total, err := s.listAudit(c.Request.Context(), v, f, q.Offset(), q.PerPage, true)
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := ListResponse[APIAuditEntry]{Items: make([]APIAuditEntry, len(rows)), Total: total, Page: q.Page, PerPage: q.PerPage}
	for i, r := range rows {
		out.Items[i] = APIAuditEntry{ID: r.ID, At: r.At.In(s.loc), AccountID: r.AccountID, Username: r.Username, OrgPath: r.OrgPath,
			Action: r.Action, ActionName: r.ActionName(), Object: r.Object, ObjectID: r.ObjectID, Summary: r.Summary, IP: r.IP,
			Before: rawJSON(r.Before), After: rawJSON(r.After)}
	}
	c.JSON(http.StatusOK, out)
}
