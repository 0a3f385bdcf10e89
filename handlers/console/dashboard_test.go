package console_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

func TestDashboardCountsBindingsPerVillageWithinTheViewersScope(t *testing.T) {
	e := consoletest.New(t)
	e.BindAs("o-zhang", "张国华") // 郭沟村
	e.BindAs("o-chen", "陈志强")  // 双河村

	var d struct {
		Members, Bound int64
		BoundToday     int64 `json:"bound_today"`
		Villages       []struct {
			Name           string
			Members, Bound int64
		}
	}
	if st, body := e.API(e.Token(consoletest.Town), "GET", "/api/v1/dashboard", nil, &d); st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	if d.Members != 14 || d.Bound != 2 || d.BoundToday != 2 || len(d.Villages) != 4 {
		t.Fatalf("花溪镇: %+v", d)
	}
	for _, v := range d.Villages {
		if (v.Name == "郭沟村" || v.Name == "双河村") != (v.Bound == 1) {
			t.Errorf("%s: %d bound", v.Name, v.Bound)
		}
	}

	c := e.Login(consoletest.Secretary)
	res, body := c.Get("/console/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "郭沟村") || strings.Contains(body, "双河村") {
		t.Fatalf("secretary's dashboard shows other villages or not his own: %d", res.StatusCode)
	}
	res, body = c.Get("/console/dashboard/export.xlsx")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if len(rows) != 4 || rows[3][0] != "郭沟村" || rows[3][4] != "1" || !strings.Contains(rows[1][0], "郭沟村") {
		t.Fatalf("export rows: %q", rows)
	}
}
