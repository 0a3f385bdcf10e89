package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/yanzhen/yanzhen/internal/browsertest"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

// TestConsoleInABrowser walks the console as a county administrator does, in real headless Chromium:
// log in, look at the dashboard (also on a phone), import a roster with one bad row and read the error,
// export the roster to Excel and open the file, log out. Screenshots go to YANZHEN_TEST_ARTIFACTS.
func TestConsoleInABrowser(t *testing.T) {
	b := browsertest.New(t)
	e := consoletest.New(t)
	ctx := b.Ctx()

	t.Run("login", func(t *testing.T) {
		b := b.For(t)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/console/"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), consoletest.County),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), consoletest.Password),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "login")
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.stats`)),
		); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		b := b.For(t)
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"在册人员", "40", "已绑定微信", "郭沟村", "花溪镇"} {
			if !strings.Contains(text, want) {
				t.Errorf("dashboard lacks %q:\n%s", want, text)
			}
		}
		// The chart is drawn by ECharts from the embedded copy (no CDN).
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.chart svg`))); err != nil {
			t.Fatalf("chart not drawn: %v", err)
		}
		b.Screenshot(ctx, "dashboard")

		// The same page on a phone: the session cookie is shared by the tabs of one browser.
		phone := b.Phone()
		if err := chromedp.Do(phone, chromedp.Navigate(e.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS(`.stats`))); err != nil {
			t.Fatal(err)
		}
		overflow, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Error("the dashboard is wider than a phone screen (the page scrolls sideways)")
		}
		b.Screenshot(phone, "dashboard-phone")
	})

	t.Run("import with a bad row", func(t *testing.T) {
		b := b.For(t)
		csv := filepath.Join(t.TempDir(), "花名册.csv")
		body := "姓名,手机号,角色,组织\n" +
			"新党员甲,13912340001,党员,洪雅县/花溪镇/郭沟村\n" +
			"新党员乙,12345,党员,洪雅县/花溪镇/郭沟村\n" +
			"新党员丙,13912340003,党员,洪雅县/花溪镇/双河村\n"
		if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/console/import"),
			chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"]`), []string{csv}),
			chromedp.Click(chromedp.CSS(`form[action="/console/import"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.errors`)),
		); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "第3行") || !strings.Contains(text, "手机号") {
			t.Errorf("the bad row's error is not shown with its line number:\n%s", text)
		}
		b.Screenshot(ctx, "import-result")
		var n int64
		e.App.DB().Table("members").Where("name IN ?", []string{"新党员甲", "新党员丙"}).Count(&n)
		if n != 2 {
			t.Errorf("good rows imported: %d, want 2", n)
		}
	})

	t.Run("export to Excel", func(t *testing.T) {
		b := b.For(t)
		dir := b.DownloadDir(ctx)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/console/members?role=%E4%B9%A6%E8%AE%B0"),
			chromedp.WaitVisible(chromedp.CSS(`table`)),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "members")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href^="/console/members/export.xlsx"]`))); err != nil {
			t.Fatal(err)
		}
		path, err := b.WaitDownload(ctx, dir, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(filepath.Base(path), "花名册_") || filepath.Ext(path) != ".xlsx" {
			t.Errorf("file name %q, want 花名册_<time>.xlsx", filepath.Base(path))
		}
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatalf("the export does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetList()[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 4 || !strings.Contains(strings.Join(rows[1], ""), "书记") {
			t.Fatalf("export rows: %v (want the filter 角色=书记 in the header)", rows)
		}
		for _, r := range rows[3:] {
			if !strings.Contains(strings.Join(r, ","), "书记") {
				t.Errorf("a row that is not a 书记: %v", r)
			}
		}
		if len(rows)-3 != 11 {
			t.Errorf("exported %d secretaries, want 11", len(rows)-3)
		}
	})

	t.Run("logout", func(t *testing.T) {
		b := b.For(t)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.URL+"/console/"),
			chromedp.Click(chromedp.CSS(`form.logout button`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		); err != nil {
			t.Fatal(err)
		}
		b.Screenshot(ctx, "logged-out")
		// The session is gone: the console sends the browser back to the login page.
		if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`))); err != nil {
			t.Fatal(err)
		}
	})
}
