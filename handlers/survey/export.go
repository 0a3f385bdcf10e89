package survey

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/internal/xlsxout"
	"github.com/yanzhen/yanzhen/models"
	"github.com/yanzhen/yanzhen/scope"
)

// The export: one row per finished response in the viewer's part of the tree; for each choice or
// rating question a column of codes (option numbers, "1;3") and one of labels, for numbers and texts
// one column. Named surveys start with the member's name, org and submit time; anonymous ones with the
// org only (no name, no time, rows in the random order of their ids). Rows are read in batches and
// streamed (xlsxout.WriteStream), so 100,000 responses take no more memory than a few hundred.

const exportBatch = 1000

// How a batch's answers are read. Reading them by a list of the batch's 1,000 ids made PostgreSQL scan
// the whole answers table for every batch (a parallel seq scan: 30-50 ms a batch with one survey's
// 400,000 answers, more on a table holding many surveys): the export of 100,000 responses took 6.6 s
// for 2.4 s of its own work (BenchmarkSurvey100k; now 2.3 s). When a batch's in-scope responses are
// dense in the id order (a county's export of a named survey: the ids come from one sequence), its
// answers are one range of the answers' primary key (response_id first: ~4,000 rows in about 1 ms).
// Sparse ones (a town's or a village's part of it, or an anonymous survey's random ids, where a range
// would cover other surveys' answers) are read by id, at most exportInList ids a query, which the
// planners answer from the primary key.
const (
	exportDense  = 2   // a range when it spans fewer than this many ids per response wanted
	exportInList = 200 // else ids per query
)

// exportColumns are the export's headers.
func exportColumns(sv *Survey) []string {
	cols := []string{"组织"}
	if !sv.Anonymous {
		cols = []string{"姓名", "组织", "提交时间"}
	}
	for _, q := range sv.Qs {
		label := fmt.Sprintf("Q%d %s", q.Seq, clip(q.Text, 20))
		if q.IsChoice() || q.Kind == models.SurveyRating {
			cols = append(cols, fmt.Sprintf("Q%d 编码", q.Seq), label)
		} else {
			cols = append(cols, label)
		}
	}
	return cols
}

// WriteExport writes survey sv's finished responses in scope sc as .xlsx to w.
func (s *Service) WriteExport(ctx context.Context, w io.Writer, sv *Survey, sc scope.Scope, filters []xlsxout.Filter) (int, error) {
	db := s.db.WithContext(ctx)
	var n int64
	err := db.Model(&models.SurveyResponse{}).Where("survey_responses.survey_id = ? AND survey_responses.done = ?", sv.ID, true).
		Scopes(sc.ByOrg("survey_responses.org_id")).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("survey: count export: %w", err)
	}
	// The scope's orgs, once: each batch is then read by id alone (an org filter in the batch query
	// makes the database sort the whole survey's responses for every batch) and filtered here.
	var orgs []models.Org
	if err := db.Model(&models.Org{}).Scopes(sc.Orgs).Select("id, path").Find(&orgs).Error; err != nil {
		return 0, fmt.Errorf("survey: export orgs: %w", err)
	}
	pathOf := make(map[uint]string, len(orgs))
	for _, o := range orgs {
		pathOf[o.ID] = o.Path
	}
	t := xlsxout.Table{Title: clip(sv.Title, 40), Filters: filters, Columns: exportColumns(sv)}
	rows := 0
	err = xlsxout.WriteStream(w, t, int(n), func(emit func([]any) error) error {
		var after uint64
		for {
			var batch []exportResponse
			q := db.Table("survey_responses").
				Where("survey_responses.survey_id = ? AND survey_responses.done = ? AND survey_responses.id > ?", sv.ID, true, after).
				Order("survey_responses.id").Limit(exportBatch)
			if sv.Anonymous {
				q = q.Select("survey_responses.id, survey_responses.org_id")
			} else {
				q = q.Select("survey_responses.id, survey_responses.org_id, survey_responses.submitted_at, COALESCE(members.name, '') AS name").
					Joins("LEFT JOIN members ON members.id = survey_responses.member_id")
			}
			if err := q.Find(&batch).Error; err != nil {
				return fmt.Errorf("survey: export responses: %w", err)
			}
			if len(batch) == 0 {
				return nil
			}
			after = batch[len(batch)-1].ID
			ids := make([]uint64, 0, len(batch))
			for _, r := range batch {
				if _, ok := pathOf[r.OrgID]; ok {
					ids = append(ids, r.ID)
				}
			}
			if len(ids) == 0 {
				continue
			}
			ans, err := exportAnswers(db, sv.ID, ids)
			if err != nil {
				return err
			}
			byResp := make(map[uint64][]models.SurveyAnswer, len(ids))
			for _, a := range ans {
				byResp[a.ResponseID] = append(byResp[a.ResponseID], a)
			}
			for _, r := range batch {
				path, ok := pathOf[r.OrgID]
				if !ok {
					continue
				}
				row := []any{path}
				if !sv.Anonymous {
					row = []any{r.Name, path, r.SubmittedAt}
				}
				answers := collect(sv, byResp[r.ID])
				for _, q := range sv.Qs {
					a := answers[q.Seq]
					if q.IsChoice() || q.Kind == models.SurveyRating {
						row = append(row, answerCodes(&q, a), answerText(&q, a))
						continue
					}
					if q.Kind == models.SurveyNumber && a.Num != nil {
						row = append(row, *a.Num)
						continue
					}
					row = append(row, answerText(&q, a))
				}
				if err := emit(row); err != nil {
					return err
				}
				rows++
			}
		}
	}, s.now().In(s.loc))
	return rows, err
}

// exportResponse is a finished response as the export reads it; Name is the member's (named surveys).
type exportResponse struct {
	ID          uint64
	OrgID       uint
	SubmittedAt *time.Time
	Name        string
}

// exportAnswers reads the answers of survey svID's responses ids (ascending), in the order of
// response, question and position: see exportDense for how.
func exportAnswers(db *gorm.DB, svID uint, ids []uint64) ([]models.SurveyAnswer, error) {
	const cols, order = "response_id, question_id, choice, num, text", "response_id, question_id, pos"
	var ans []models.SurveyAnswer
	if first, last := ids[0], ids[len(ids)-1]; last-first < exportDense*uint64(len(ids)) {
		// The range may hold answers of unfinished and out-of-scope responses too: never looked up.
		// SQLite's planner, without statistics, prefers the answers' survey index (every answer of the
		// survey, for each batch) to the primary key's range: the unary + hides that index there.
		surveyCol := "survey_id"
		if models.Dialect(db) == "sqlite" {
			surveyCol = "+survey_id"
		}
		err := db.Select(cols).Where(surveyCol+" = ? AND response_id >= ? AND response_id <= ?", svID, first, last).Order(order).Find(&ans).Error
		if err != nil {
			return nil, fmt.Errorf("survey: export answers: %w", err)
		}
		return ans, nil
	}
	for start := 0; start < len(ids); start += exportInList {
		var part []models.SurveyAnswer
		err := db.Select(cols).Where("response_id IN ?", ids[start:min(start+exportInList, len(ids))]).Order(order).Find(&part).Error
		if err != nil {
			return nil, fmt.Errorf("survey: export answers: %w", err)
		}
		ans = append(ans, part...)
	}
	return ans, nil
}

// Export is GET /console/surveys/:id/export.xlsx (?org= narrows it): recorded in the audit log before
// the file goes out, as every export of personal data.
func (s *Service) Export(c *gin.Context) {
	ctx := c.Request.Context()
	v := console.ViewerOf(c)
	sv, sc, ok := s.surveyIn(c, v)
	if !ok {
		return
	}
	now := s.now().In(s.loc)
	path := sc.Path
	if sc.All {
		path = sv.OrgPath
	}
	filters := []xlsxout.Filter{{Name: "范围", Value: path}}
	if sv.Anonymous {
		filters = append(filters, xlsxout.Filter{Name: "匿名", Value: "是（只有回答，不关联个人）"})
	}
	name := xlsxout.FileName("问卷_"+clip(sv.Title, 20), now)
	if err := s.record(ctx, nil, v, console.Change{Action: console.ActionExport, Object: "export", OrgPath: v.Scope.Path,
		Summary: fmt.Sprintf("导出问卷《%s》的回答（%s）", sv.Title, path),
		After:   map[string]any{"file": name, "survey": sv.ID, "scope": path}}); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", xlsxout.ContentType)
	c.Header("Content-Disposition", xlsxout.ContentDisposition(name))
	c.Header("Cache-Control", "no-store")
	if _, err := s.WriteExport(ctx, c.Writer, sv, sc, filters); err != nil {
		if !c.Writer.Written() { // the workbook is written at the end: nothing went out yet
			c.Writer.Header().Del("Content-Disposition")
			s.fail(c, err)
			return
		}
		// Cut off while sending: the browser shows the download as failed.
		s.log.ErrorContext(ctx, "survey: export", "survey", sv.ID, "err", err)
	}
}
