package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanzhen/yanzhen/internal/browsertest"
	"github.com/yanzhen/yanzhen/internal/consoletest"
	"github.com/yanzhen/yanzhen/models"
)

// TestPolicyPagesFitAPhone opens the policy pages in headless Chromium, on a desktop and on a phone:
// nothing may make the page scroll sideways, and the answer form counts what is typed. Screenshots go
// to YANZHEN_TEST_ARTIFACTS. Skipped without a browser (see internal/browsertest).
func TestPolicyPagesFitAPhone(t *testing.T) {
	b := browsertest.New(t)
	e := consoletest.New(t)
	q := ask(t, e, "王德明", "o-wang", "村里的低保怎么申请？需要准备哪些材料，找谁办理，多长时间能批下来？", 30*time.Hour)
	ctx := b.Ctx()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), consoletest.Town),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), consoletest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.stats`)),
	); err != nil {
		t.Fatal(err)
	}
	var doc models.PolicyDoc
	e.App.DB().Order("id").Take(&doc)
	phone := b.Phone()
	for name, path := range map[string]string{
		"policy-inbox":    "/console/policy",
		"policy-question": fmt.Sprintf("/console/policy/questions/%d", q.ID),
		"policy-faqs":     "/console/policy/faqs",
		"policy-faq-new":  "/console/policy/faqs/new",
		"policy-docs":     "/console/policy/docs",
		"policy-doc":      fmt.Sprintf("/console/policy/docs/%d", doc.ID),
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
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/console/policy/questions/%d", e.URL, q.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#answer`)),
		chromedp.SendKeys(chromedp.CSS(`#answer`), "到村便民服务站申请。"),
	); err != nil {
		t.Fatal(err)
	}
	count, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("answer-count").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if count != "已写 10 / 250 字" {
		t.Errorf("the counter says %q", count)
	}
}
