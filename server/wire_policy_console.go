package server

import (
	"context"
	"errors"
	"io"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/console"
	"github.com/yanzhen/yanzhen/handlers/policy"
	policyweb "github.com/yanzhen/yanzhen/handlers/policy/web"
)

// policyConsoleParts are the App's fields of this part.
type policyConsoleParts struct {
	pweb *policyweb.Web // the policy Q&A's console: inbox, FAQ editor, documents
}

// wirePolicyConsole builds the policy console and puts 政策问答 in the console's menu. The knowledge
// base itself (import, index, answering in chat) is wirePolicy's; the console reaches it through
// a.hooks at run time, so it works whichever wire function runs first, and says "未启用" without it.
func (a *App) wirePolicyConsole() error {
	a.pweb = policyweb.New(policyweb.Options{
		Console: a.console, DB: a.db, Log: a.log, Now: a.now, Notifier: a.notify,
		Import: func(ctx context.Context, name string, r io.Reader) (policyweb.Imported, error) {
			if a.hooks.importPolicy == nil {
				return policyweb.Imported{}, policyweb.ErrNotEnabled
			}
			res, err := a.hooks.importPolicy(ctx, name, r)
			if errors.Is(err, policy.ErrBadDoc) { // the file's fault: say why on the form
				err = console.Invalid("file", "%s", policy.Reason(err))
			}
			return policyweb.Imported{DocID: res.DocID, Title: res.Title, Passages: res.Passages, Changed: res.Changed}, err
		},
		Refresh: func(ctx context.Context) error {
			if a.hooks.refreshPolicy == nil {
				return nil
			}
			return a.hooks.refreshPolicy(ctx)
		},
	})
	return nil
}

// policyConsoleRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
// Reading is for every viewer (questions of his part of the tree; FAQs and documents of the whole
// installation); answering and changing are for administrators.
func (a *App) policyConsoleRoutes(con, api, mpapi *gin.RouterGroup) {
	admin := a.console.AdminOnly()
	// the inbox: questions the bot could not answer
	con.GET("/policy", a.pweb.InboxPage)
	con.GET("/policy/questions/:id", a.pweb.QuestionPage)
	con.POST("/policy/questions/:id/reply", admin, a.pweb.ReplySubmit)
	con.POST("/policy/questions/:id/faq", admin, a.pweb.QuestionFAQSubmit)
	// FAQs
	con.GET("/policy/faqs", a.pweb.FAQsPage)
	con.GET("/policy/faqs/new", admin, a.pweb.NewFAQPage)
	con.POST("/policy/faqs", admin, a.pweb.CreateFAQSubmit)
	con.GET("/policy/faqs/:id", a.pweb.FAQPage)
	con.POST("/policy/faqs/:id", admin, a.pweb.UpdateFAQSubmit)
	con.POST("/policy/faqs/:id/retire", admin, a.pweb.RetireFAQ)
	con.POST("/policy/faqs/:id/restore", admin, a.pweb.RestoreFAQ)
	// documents
	con.GET("/policy/docs", a.pweb.DocsPage)
	con.POST("/policy/docs", admin, a.pweb.UploadDocSubmit)
	con.GET("/policy/docs/:id", a.pweb.DocPage)

	api.GET("/policy/questions", a.pweb.APIQuestions)
	api.POST("/policy/questions/:id/reply", admin, a.pweb.APIReply)
	api.GET("/policy/faqs", a.pweb.APIFAQs)
	api.POST("/policy/faqs", admin, a.pweb.APICreateFAQ)
	api.PATCH("/policy/faqs/:id", admin, a.pweb.APIUpdateFAQ)
}
