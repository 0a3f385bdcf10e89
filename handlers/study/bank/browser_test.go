package bank_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/yanzhen/yanzhen/internal/browsertest"
	"github.com/yanzhen/yanzhen/internal/consoletest"
)

// TestQuestionPagesFitAPhone opens the bank's pages in headless Chromium, on a desktop and on a phone:
// nothing may make the page scroll sideways (the table scrolls inside its box). Screenshots go to
// YANZHEN_TEST_ARTIFACTS.
func TestQuestionPagesFitAPhone(t *testing.T) {
	b := browsertest.New(t)
	e := consoletest.New(t)
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
	id := question(t, e, firstStem).ID
	phone := b.Phone()
	for name, path := range map[string]string{
		"questions":       "/console/questions",
		"question":        fmt.Sprintf("/console/questions/%d", id),
		"question-edit":   fmt.Sprintf("/console/questions/%d/edit", id),
		"question-import": "/console/questions/import",
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+path), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b.Screenshot(ctx, name)
		if err := chromedp.Do(phone, chromedp.Navigate(e.URL+path), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
			t.Fatalf("%s on a phone: %v", path, err)
		}
		overflow, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("%s is wider than a phone screen", path)
		}
		b.Screenshot(phone, name+"-phone")
	}
}
