package roster

import (
	"context"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// Header is the roster file's header row.
var Header = []string{"姓名", "手机号", "角色", "组织"}

// RowError is a row that was not imported, by its line in the file, with the reason in Chinese.
type RowError struct {
	Line   int
	Reason string
}

// ImportResult is what an import did. Unbound lists the file's members who have no WeChat bound yet,
// in file order, with their bind codes.
type ImportResult struct {
	Created   int
	Updated   int
	Unchanged int
	Errors    []RowError
	Unbound   []UnboundMember

	updated []uint // ids of the members updated, whose cached bot identity may be stale
}

// rosterRow is a checked row of a roster file.
type rosterRow struct {
	line                    int
	name, phone, role, path string
}

// ImportOption changes what Import accepts or does.
type ImportOption func(*importOptions)

type importOptions struct {
	scope *scope.Scope
	// done runs in the import's transaction after the rows are written (the console's audit entry).
	done func(tx *gorm.DB, res *ImportResult) error
}

// reasonOutOfScope is the row error of a row Import refuses under WithinScope.
const reasonOutOfScope = "不在你的管理范围内"

// WithinScope makes Import refuse, as that row's error, every row whose org is outside sc, or whose
// phone number belongs to a member of an org outside sc (importing it would move him in).
func WithinScope(sc scope.Scope) ImportOption {
	return func(o *importOptions) { o.scope = &sc }
}

// afterImport runs fn in the import's transaction once the rows are written.
func afterImport(fn func(tx *gorm.DB, res *ImportResult) error) ImportOption {
	return func(o *importOptions) { o.done = fn }
}

// Import reads a roster file (CSV or the first sheet of an XLSX; see table.Read) and creates or updates
// its members by phone number, creating missing orgs. Bad rows are reported in the result and the
// good rows are imported, all in one transaction. A file-level problem (unreadable, wrong header) is
// an error wrapping ErrBadFile, and nothing is imported.
func (s *Service) Import(ctx context.Context, r io.Reader, filename string, opts ...ImportOption) (*ImportResult, error) {
	var o importOptions
	for _, opt := range opts {
		opt(&o)
	}
	recs, err := table.Read(r, filename)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	rows, err := checkRows(recs, res)
	if err != nil {
		return nil, err
	}
	if o.scope != nil {
		rows = refuseRows(rows, res, func(r rosterRow) bool { return !o.scope.Contains(r.path) })
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if o.scope != nil {
			outside, err := phonesOutside(tx, rows, *o.scope)
			if err != nil {
				return err
			}
			rows = refuseRows(rows, res, func(r rosterRow) bool { return outside[r.phone] })
		}
		if err := s.importRows(ctx, tx, rows, res); err != nil {
			return err
		}
		if o.done != nil {
			return o.done(tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "roster: imported", "file", filename, "created", res.Created,
		"updated", res.Updated, "unchanged", res.Unchanged, "errors", len(res.Errors))
	return res, nil
}

// refuseRows moves the rows for which out is true to res.Errors (as reasonOutOfScope, in line order)
// and returns the others.
func refuseRows(rows []rosterRow, res *ImportResult, out func(rosterRow) bool) []rosterRow {
	kept := rows[:0:0]
	refused := false
	for _, r := range rows {
		if out(r) {
			res.Errors = append(res.Errors, RowError{Line: r.line, Reason: reasonOutOfScope})
			refused = true
			continue
		}
		kept = append(kept, r)
	}
	if refused {
		sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	}
	return kept
}

// phonesOutside returns the rows' phone numbers that belong to members of orgs outside sc.
func phonesOutside(tx *gorm.DB, rows []rosterRow, sc scope.Scope) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(rows); start += 500 {
		chunk := rows[start:min(start+500, len(rows))]
		phones := make([]string, len(chunk))
		for i, r := range chunk {
			phones[i] = r.phone
		}
		var found []struct{ Phone, Path string }
		err := tx.Table("members").Select("members.phone, orgs.path").Joins("JOIN orgs ON orgs.id = members.org_id").
			Where("members.phone IN ?", phones).Scan(&found).Error
		if err != nil {
			return nil, fmt.Errorf("roster: import: check phones: %w", err)
		}
		for _, f := range found {
			if !sc.Contains(f.Path) {
				out[f.Phone] = true
			}
		}
	}
	return out, nil
}

// checkRows checks the header and every row, and returns the good rows; bad rows go to res.Errors.
func checkRows(recs []table.Record, res *ImportResult) ([]rosterRow, error) {
	for len(recs) > 0 && table.Blank(recs[0].Fields) {
		recs = recs[1:]
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: 文件是空的，第一行应为表头「%s」", ErrBadFile, strings.Join(Header, ","))
	}
	head := recs[0]
	cells := make([]string, 0, len(head.Fields))
	for _, f := range head.Fields {
		cells = append(cells, table.Clean(f))
	}
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	if strings.Join(cells, ",") != strings.Join(Header, ",") {
		return nil, fmt.Errorf("%w: 第%d行应为表头「%s」，实际是「%s」", ErrBadFile, head.Line,
			strings.Join(Header, ","), truncateRunes(strings.Join(cells, ","), 60))
	}

	rows := make([]rosterRow, 0, len(recs)-1)
	firstLine := map[string]int{} // phone → line of its first good row
	for _, rec := range recs[1:] {
		if table.Blank(rec.Fields) {
			continue
		}
		row, reasons := checkRow(rec)
		if len(reasons) == 0 {
			if prev, dup := firstLine[row.phone]; dup {
				reasons = append(reasons, fmt.Sprintf("手机号 %s 与第%d行重复", row.phone, prev))
			} else {
				firstLine[row.phone] = rec.Line
			}
		}
		if len(reasons) > 0 {
			res.Errors = append(res.Errors, RowError{Line: rec.Line, Reason: strings.Join(reasons, "；")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// checkRow checks one data row, returning every reason it is wrong.
func checkRow(rec table.Record) (rosterRow, []string) {
	f := make([]string, len(Header))
	var reasons []string
	for i, v := range rec.Fields {
		v = table.Clean(v)
		switch {
		case i < len(f):
			f[i] = v
		case v != "":
			return rosterRow{}, []string{fmt.Sprintf("这一行多出了列（应为%d列：%s），姓名或组织里是否有英文逗号？",
				len(Header), strings.Join(Header, ","))}
		}
	}
	row := rosterRow{line: rec.Line, name: normalizeName(f[0])}
	switch {
	case row.name == "":
		reasons = append(reasons, "姓名为空")
	case utf8.RuneCountInString(row.name) > 64:
		reasons = append(reasons, "姓名太长（最多64个字）")
	case strings.IndexFunc(row.name, unicode.IsControl) >= 0:
		reasons = append(reasons, "姓名含有不可见字符")
	}
	if f[1] == "" {
		reasons = append(reasons, "手机号为空")
	} else if p, ok := NormalizePhone(f[1]); ok {
		row.phone = p
	} else {
		reasons = append(reasons, fmt.Sprintf("手机号「%s」不是有效的手机号（应为1开头的11位数字）", truncateRunes(f[1], 20)))
	}
	row.role = bot.Normalize(f[2])
	switch {
	case row.role == "":
		reasons = append(reasons, "角色为空（应为"+strings.Join(models.Roles, "、")+"之一）")
	case !models.ValidRole(row.role):
		reasons = append(reasons, fmt.Sprintf("角色「%s」不对，应为%s之一", truncateRunes(f[2], 16), strings.Join(models.Roles, "、")))
	}
	if names, reason := splitOrgPath(f[3]); reason != "" {
		reasons = append(reasons, reason)
	} else {
		row.path = strings.Join(names, "/")
	}
	return row, reasons
}

var mobileRE = regexp.MustCompile(`^1[3-9]\d{9}$`)

// NormalizePhone turns a mainland mobile number as people write it ("138 1234 5678", "138-1234-5678",
// "+86 13812345678", full-width digits, or Excel's 1.3812345678E+10) into its 11 digits, and reports
// whether it is a valid mobile number.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(width.Fold.String(s))
	if strings.ContainsAny(s, ".eE") {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e15 && f == math.Trunc(f) {
			s = strconv.FormatFloat(f, 'f', 0, 64)
		}
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case unicode.IsSpace(r) || r == '-' || r == '—' || r == '–' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	p := b.String()
	switch {
	case len(p) == 15 && strings.HasPrefix(p, "0086"):
		p = p[4:]
	case len(p) == 13 && strings.HasPrefix(p, "86"):
		p = p[2:]
	}
	return p, mobileRE.MatchString(p)
}

// normalizeName trims a name, and drops the spaces people put inside a Chinese name to line it up
// ("张  三"); names with other letters ("阿依古丽·买买提", "Li Ming") keep theirs.
func normalizeName(s string) string {
	s = strings.TrimSpace(s)
	hanOnly := true
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Han, r) {
			hanOnly = false
			break
		}
	}
	if hanOnly {
		return strings.Join(strings.Fields(s), "")
	}
	return strings.Join(strings.Fields(s), " ")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// importRows writes the good rows: orgs first, then new members in batches with their bind codes, then
// changed members in one upsert per batch. Unchanged members are not written at all, so a second
// import of the same file leaves UpdatedAt alone.
func (s *Service) importRows(ctx context.Context, tx *gorm.DB, rows []rosterRow, res *ImportResult) error {
	if len(rows) == 0 {
		return nil
	}
	paths := make([]string, 0, len(rows))
	phones := make([]string, 0, len(rows))
	for _, r := range rows {
		paths = append(paths, r.path)
		phones = append(phones, r.phone)
	}
	orgs, err := s.ensureOrgs(ctx, tx, paths)
	if err != nil {
		return err
	}
	existing := make(map[string]*models.Member, len(rows))
	for start := 0; start < len(phones); start += 500 {
		var ms []*models.Member
		if err := tx.Where("phone IN ?", phones[start:min(start+500, len(phones))]).Find(&ms).Error; err != nil {
			return fmt.Errorf("roster: load members: %w", err)
		}
		for _, m := range ms {
			existing[m.Phone] = m
		}
	}

	now := s.now()
	var created, changed []*models.Member
	final := make([]*models.Member, len(rows)) // each row's member as it will be after the import
	for i, r := range rows {
		orgID := orgs[r.path].ID
		m := existing[r.phone]
		switch {
		case m == nil:
			m = &models.Member{Name: r.name, Phone: r.phone, Role: r.role, OrgID: orgID, Active: true, CreatedAt: now, UpdatedAt: now}
			created = append(created, m)
		case m.Name != r.name || m.Role != r.role || m.OrgID != orgID || !m.Active:
			m.Name, m.Role, m.OrgID, m.Active, m.UpdatedAt = r.name, r.role, orgID, true, now
			changed = append(changed, m)
		default:
			res.Unchanged++
		}
		final[i] = m
	}

	if len(created) > 0 {
		codes, err := freshCodes(tx, len(created))
		if err != nil {
			return err
		}
		for i, m := range created {
			m.BindCode = &codes[i]
		}
		if err := tx.Omit(clause.Associations).CreateInBatches(created, 500).Error; err != nil {
			return fmt.Errorf("roster: create %d members: %w", len(created), err)
		}
		res.Created = len(created)
	}
	if len(changed) > 0 {
		// One multi-row upsert per batch instead of one UPDATE per member: every row conflicts on
		// phone and updates just these columns.
		upserts := make([]models.Member, len(changed))
		for i, m := range changed {
			upserts[i] = models.Member{Name: m.Name, Phone: m.Phone, Role: m.Role, OrgID: m.OrgID, Active: true, CreatedAt: now, UpdatedAt: now}
		}
		err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "phone"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "role", "org_id", "active", "updated_at"}),
		}).CreateInBatches(upserts, 500).Error
		if err != nil {
			return fmt.Errorf("roster: update %d members: %w", len(changed), err)
		}
		res.Updated = len(changed)
		for _, m := range changed {
			res.updated = append(res.updated, m.ID)
		}
	}

	// Unbound members without a code (e.g. created by the console) get one now.
	var needCode []*models.Member
	for _, m := range final {
		if !m.Bound() && m.BindCode == nil {
			needCode = append(needCode, m)
		}
	}
	if err := s.assignCodes(tx, needCode); err != nil {
		return err
	}
	for i, m := range final {
		if !m.Bound() && m.BindCode != nil {
			res.Unbound = append(res.Unbound, UnboundMember{
				ID: m.ID, Name: m.Name, Phone: m.Phone, Role: m.Role, OrgPath: rows[i].path, BindCode: *m.BindCode,
			})
		}
	}
	return nil
}
