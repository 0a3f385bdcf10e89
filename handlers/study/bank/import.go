package bank

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/table"
	"github.com/yanzhen/yanzhen/models"
)

// Header is the question bank file's header row. More option columns (选项E, 选项F…) may follow 选项D;
// columns are found by their names, so their order does not matter, and 解析 and 标签 may be left out.
var Header = []string{"题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "标签"}

// RowError is a row that was not imported, by its line in the file, with the reason in Chinese.
type RowError struct {
	Line   int
	Reason string
}

// ImportResult is what an import did.
type ImportResult struct {
	Created   int
	Updated   int
	Unchanged int
	Errors    []RowError
}

// importBatch is how many questions one INSERT writes (11 columns each: well under every database's
// limit of bound parameters).
const importBatch = 500

// Import reads a question bank file (CSV or the first sheet of an XLSX; see table.Read) and creates
// or updates its questions by their normalized stems (StemKey): importing the same file twice changes
// nothing; a changed type, options, answer, explanation or tags updates the question (its history and
// whether it is retired stay). Bad rows are reported by line in the result and the good rows are
// imported, all in one transaction. A file-level problem (unreadable, wrong header) is an error
// wrapping table.ErrBadFile, and nothing is imported.
func (s *Service) Import(ctx context.Context, r io.Reader, filename string) (*ImportResult, error) {
	recs, err := table.Read(r, filename)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	rows, err := checkRows(recs, res)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.importRows(tx, rows, res); err != nil {
			return err
		}
		errs := make([]map[string]any, len(res.Errors))
		for i, e := range res.Errors {
			errs[i] = map[string]any{"line": e.Line, "reason": e.Reason}
		}
		return s.record(ctx, tx, console.Change{
			Action: console.ActionImport,
			Summary: fmt.Sprintf("导入题库 %s：新增 %d，更新 %d，未变 %d，错误 %d 行",
				filename, res.Created, res.Updated, res.Unchanged, len(res.Errors)),
			After: map[string]any{"file": filename, "created": res.Created, "updated": res.Updated,
				"unchanged": res.Unchanged, "errors": errs},
		})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "bank: imported", "file", filename, "created", res.Created,
		"updated", res.Updated, "unchanged", res.Unchanged, "errors", len(res.Errors))
	return res, nil
}

// fileRow is a checked row of a file.
type fileRow struct {
	line int
	q    question
}

// columns says which column of the file holds what (-1: none).
type columns struct {
	typ, stem, answer, explanation, tags int
	options                              []int // the columns of options A, B, C…
	width                                int   // columns with a header
}

// headerName is a header cell as compared: half-width, no spaces, letters upper-case ("选项 ａ" → "选项A").
func headerName(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(table.Clean(s)) {
		if !unicode.IsSpace(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// parseHeader finds the columns by name.
func parseHeader(rec table.Record) (columns, error) {
	cols := columns{typ: -1, stem: -1, answer: -1, explanation: -1, tags: -1}
	byLetter := map[int]int{}
	var cells []string
	for _, f := range rec.Fields {
		cells = append(cells, table.Clean(f))
	}
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	cols.width = len(cells)
	wrong := func() error {
		return fmt.Errorf("%w: 第%d行应为表头「%s」，实际是「%s」", table.ErrBadFile, rec.Line,
			strings.Join(Header, ","), clip(strings.Join(cells, ","), 80))
	}
	named := map[string]*int{"题型": &cols.typ, "题干": &cols.stem, "答案": &cols.answer, "解析": &cols.explanation, "标签": &cols.tags}
	for i, c := range cells {
		name := headerName(c)
		if name == "" {
			continue // an empty header cell: its column must stay empty (checkRow)
		}
		if p := named[name]; p != nil {
			if *p >= 0 {
				return cols, fmt.Errorf("%w: 表头里「%s」出现了两次", table.ErrBadFile, name)
			}
			*p = i
			continue
		}
		if l, ok := strings.CutPrefix(name, "选项"); ok && len(l) == 1 && l[0] >= 'A' && l[0] <= 'Z' {
			if _, dup := byLetter[int(l[0]-'A')]; dup {
				return cols, fmt.Errorf("%w: 表头里「%s」出现了两次", table.ErrBadFile, name)
			}
			byLetter[int(l[0]-'A')] = i
			continue
		}
		if cols.typ < 0 && cols.stem < 0 && i < 2 {
			return cols, wrong() // not a header at all (a data row, another file)
		}
		return cols, fmt.Errorf("%w: 表头第%d列「%s」不认识，表头应为「%s」（选项可以增加 选项E、选项F…）",
			table.ErrBadFile, i+1, clip(c, 16), strings.Join(Header, ","))
	}
	if cols.typ < 0 || cols.stem < 0 || cols.answer < 0 {
		return cols, wrong()
	}
	for l := range len(byLetter) {
		i, ok := byLetter[l]
		if !ok {
			return cols, fmt.Errorf("%w: 表头缺少「选项%s」（选项应从 A 起依次排列）", table.ErrBadFile, Letter(l))
		}
		cols.options = append(cols.options, i)
	}
	return cols, nil
}

// checkRows checks the header and every row, and returns the good rows; bad rows go to res.Errors.
func checkRows(recs []table.Record, res *ImportResult) ([]fileRow, error) {
	for len(recs) > 0 && table.Blank(recs[0].Fields) {
		recs = recs[1:]
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: 文件是空的，第一行应为表头「%s」", table.ErrBadFile, strings.Join(Header, ","))
	}
	cols, err := parseHeader(recs[0])
	if err != nil {
		return nil, err
	}
	rows := make([]fileRow, 0, len(recs)-1)
	firstLine := make(map[string]int, len(recs)) // stem key → line of its first good row
	for _, rec := range recs[1:] {
		if table.Blank(rec.Fields) {
			continue
		}
		q, reasons := checkRow(rec, cols)
		if len(reasons) == 0 {
			if prev, dup := firstLine[q.key]; dup {
				reasons = append(reasons, fmt.Sprintf("题干与第%d行重复", prev))
			} else {
				firstLine[q.key] = rec.Line
			}
		}
		if len(reasons) > 0 {
			res.Errors = append(res.Errors, RowError{Line: rec.Line, Reason: strings.Join(reasons, "；")})
			continue
		}
		rows = append(rows, fileRow{line: rec.Line, q: q})
	}
	return rows, nil
}

// checkRow checks one data row, returning every reason it is wrong.
func checkRow(rec table.Record, cols columns) (question, []string) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec.Fields) {
			return ""
		}
		return rec.Fields[i]
	}
	used := make([]bool, max(len(rec.Fields), cols.width))
	for _, i := range append([]int{cols.typ, cols.stem, cols.answer, cols.explanation, cols.tags}, cols.options...) {
		if i >= 0 {
			used[i] = true
		}
	}
	for i, v := range rec.Fields {
		if !used[i] && table.Clean(v) != "" {
			return question{}, []string{fmt.Sprintf("这一行多出了列（第%d列没有表头），题干或选项里是否有英文逗号？", i+1)}
		}
	}
	in := Input{Type: cell(cols.typ), Stem: cell(cols.stem), Answer: cell(cols.answer),
		Explanation: cell(cols.explanation), Tags: []string{cell(cols.tags)}}
	for _, i := range cols.options {
		in.Options = append(in.Options, cell(i))
	}
	q, ps := check(in)
	reasons := make([]string, len(ps))
	for i, p := range ps {
		reasons[i] = p.reason
	}
	return q, reasons
}

// keysIn is "stem_key IN ('…', …)" with the keys written out. Bound parameters would make every chunk
// the same statement, and after five runs PostgreSQL switches it to a generic plan that compares each
// row with all 500 parameters one by one (seconds for a 10,000-question file); literals get a plan
// that hashes the list. Keys are hex digests (StemKey), so they need no quoting beyond the quotes.
func keysIn(keys []string) (string, error) {
	var b strings.Builder
	b.Grow(len(keys)*67 + 16)
	b.WriteString("stem_key IN (")
	for i, k := range keys {
		if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
			return "", fmt.Errorf("bank: %q is not a stem key", k)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(k)
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String(), nil
}

// importRows writes the good rows: new questions in batches, then the changed ones in one upsert per
// batch. Unchanged questions are not written at all, so a second import of the same file leaves
// UpdatedAt alone.
func (s *Service) importRows(tx *gorm.DB, rows []fileRow, res *ImportResult) error {
	if len(rows) == 0 {
		return nil
	}
	existing := make(map[string]*models.Question, len(rows))
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.q.key
	}
	for start := 0; start < len(keys); start += importBatch {
		in, err := keysIn(keys[start:min(start+importBatch, len(keys))])
		if err != nil {
			return err
		}
		var qs []*models.Question
		if err := tx.Where(in).Find(&qs).Error; err != nil {
			return fmt.Errorf("bank: import: load questions: %w", err)
		}
		for _, q := range qs {
			existing[q.StemKey] = q
		}
	}
	now := s.now()
	var created, changed []models.Question
	for _, r := range rows {
		switch m := existing[r.q.key]; {
		case m == nil:
			q := models.Question{Active: true, CreatedAt: now, UpdatedAt: now}
			r.q.apply(&q)
			created = append(created, q)
		case r.q.differs(m):
			// Every column an INSERT needs, though the conflict only updates the content columns:
			// attempts, correct and whether it is retired stay as they are.
			q := models.Question{Active: m.Active, CreatedAt: m.CreatedAt, UpdatedAt: now}
			r.q.apply(&q)
			changed = append(changed, q)
		default:
			res.Unchanged++
		}
	}
	if len(created) > 0 {
		if err := tx.Omit(clause.Associations).CreateInBatches(created, importBatch).Error; err != nil {
			return fmt.Errorf("bank: import: create %d questions: %w", len(created), err)
		}
		res.Created = len(created)
	}
	if len(changed) > 0 {
		err := tx.Omit(clause.Associations).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "stem_key"}},
			DoUpdates: clause.AssignmentColumns([]string{"type", "stem", "options", "answer", "explanation", "tags", "updated_at"}),
		}).CreateInBatches(changed, importBatch).Error
		if err != nil {
			return fmt.Errorf("bank: import: update %d questions: %w", len(changed), err)
		}
		res.Updated = len(changed)
	}
	return nil
}
