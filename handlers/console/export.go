package console

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/internal/xlsxout"
)

// exportAudit is what the audit log keeps of an export: which table, filtered how, how many rows;
// never the rows themselves.
type exportAudit struct {
	File    string            `json:"file"`
	Title   string            `json:"title"`
	Filters map[string]string `json:"filters,omitempty"`
	Rows    int               `json:"rows"`
}

// SendXLSX sends table t as an .xlsx download named after base and the time (e.g. "花名册_20261120-0930.xlsx"),
// and records the export in the audit log under the viewer's scope: exports carry personal data, so
// the file is sent only once the record is written.
func (s *Service) SendXLSX(c *gin.Context, base string, t xlsxout.Table) {
	v := ViewerOf(c)
	now := s.now().In(s.loc)
	var buf bytes.Buffer
	if err := xlsxout.Write(&buf, t, now); err != nil {
		s.Fail(c, fmt.Errorf("console: export %s: %w", base, err))
		return
	}
	name := xlsxout.FileName(base, now)
	rec := exportAudit{File: name, Title: t.Title, Rows: len(t.Rows)}
	if len(t.Filters) > 0 {
		rec.Filters = make(map[string]string, len(t.Filters))
		for _, f := range t.Filters {
			rec.Filters[f.Name] = f.Value
		}
	}
	orgPath := ""
	if v != nil {
		orgPath = v.Scope.Path
	}
	if err := s.Record(c.Request.Context(), nil, v, Change{Action: ActionExport, Object: "export", OrgPath: orgPath,
		Summary: fmt.Sprintf("导出「%s」%d 行", base, len(t.Rows)), After: rec}); err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", xlsxout.ContentDisposition(name))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, xlsxout.ContentType, buf.Bytes())
}
