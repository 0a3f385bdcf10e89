package study_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/yanzhen/yanzhen/internal/browsertest"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

// TestStudyPagesInABrowser opens the study pages in headless Chromium as the county administrator:
// the charts are drawn, and on a phone nothing makes a page scroll sideways (tables scroll inside
// their box). Screenshots go to YANZHEN_TEST_ARTIFACTS.
func TestStudyPagesInABrowser(t *testing.T) {
	b := browsertest.New(t)
	e := consoletest.New(t)
	cwSeed(t, e)
	ctx := b.Ctx()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), consoletest.County),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), consoletest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.stats`)),
	); err != nil {
		t.Fatal(err)
	}
	huaxi := orgID(t, e.App.DB(), "洪雅县/花溪镇")
	pages := []struct{ name, path, chart string }{
		{"study", "/console/study", `.chart svg`},
		{"study-town-week", fmt.Sprintf("/console/study?org=%d&period=week", huaxi), `.chart svg`},
		{"study-members", "/console/study/members", ""},
		{"study-member", fmt.Sprintf("/console/study/members/%d", memberID(t, e.App.DB(), "张国华")), ""},
		{"study-rules", "/console/study/rules", ""},
	}
	phone := b.Phone()
	for _, p := range pages {
		wait := chromedp.WaitVisible(chromedp.CSS(`main h1`))
		if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+p.path), wait); err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		if p.chart != "" {
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(p.chart))); err != nil {
				t.Fatalf("%s: chart not drawn: %v", p.path, err)
			}
		}
		b.Screenshot(ctx, p.name)
		if err := chromedp.Do(phone, chromedp.Navigate(e.URL+p.path), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
			t.Fatalf("%s on a phone: %v", p.path, err)
		}
		overflow, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("%s is wider than a phone screen", p.path)
		}
		b.Screenshot(phone, p.name+"-phone")
	}
}
