package server

import (
	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot/wechat/wxfake"
	"github.com/yanzhen/yanzhen/config"
	"github.com/yanzhen/yanzhen/handlers/survey"
	"github.com/yanzhen/yanzhen/schedule"
)

// surveyParts are the App's fields of this part: surveys (电子问卷), answered in the chat, on the H5
// form and in the mini-program, with their console builder, results, export and reminders.
type surveyParts struct {
	surveys *survey.Service
}

// wireSurvey builds this part's service and registers its bot routes (问卷, the SURVEYS menu), its daily
// job and its console menu. The H5 form's links are signed with a key derived from the official
// account's secrets (the configuration has no secret of its own); reminders go through the shared
// notifier.
func (a *App) wireSurvey() error {
	// Web OAuth goes to WeChat's authorize page, or, when the WeChat API is another (the fake WeChat of
	// the demo and the tests), to that one's.
	authorize := ""
	if a.cfg.WeChatAPIBase != config.DefaultWeChatAPIBase {
		authorize = a.cfg.WeChatAPIBase + wxfake.PathOAuthAuthorize
	}
	a.surveys = survey.New(survey.Options{
		DB: a.db, Log: a.log, Now: a.now, Location: a.cfg.Location, Console: a.console, Teller: a.notify,
		LinkKey: survey.LinkKey(a.cfg.OA.Secret, a.cfg.OA.AESKey), BaseURL: a.cfg.PublicURL,
		OAuthAppID: a.cfg.OA.AppID, AuthorizeURL: authorize, WebAuth: a.wx,
	})
	a.surveys.Register(a.router)
	// Reminders to those who have not answered (each survey's own interval and count), and the drafts
	// of ended surveys dropped.
	if err := a.sched.Add(schedule.Job{Name: "survey.remind", At: survey.RemindJobAt, Run: a.surveys.RunDay}); err != nil {
		return err
	}
	a.demo = append(a.demo, a.surveys.LoadDemo)
	return nil
}

// Surveys is the survey capability (tests; the broadcast engine's per-recipient links: LinkFor).
func (a *App) Surveys() *survey.Service { return a.surveys }

// surveyRoutes adds this part's routes: console pages (con), the JSON API (api), the mini-program API
// (mpapi) and the public H5 form (r), whose signed link is its permission.
func (a *App) surveyRoutes(r *gin.Engine, con, api, mpapi *gin.RouterGroup) {
	s, admin := a.surveys, a.console.AdminOnly()
	con.GET("/surveys", s.ListPage)
	con.GET("/surveys/new", admin, s.NewPage)
	con.POST("/surveys", admin, s.CreateSubmit)
	con.GET("/surveys/:id", s.Page)
	con.GET("/surveys/:id/edit", admin, s.EditPage)
	con.POST("/surveys/:id", admin, s.UpdateSubmit)
	con.POST("/surveys/:id/send", admin, s.SendSubmit)
	con.POST("/surveys/:id/close", admin, s.CloseSubmit)
	con.POST("/surveys/:id/remind", admin, s.RemindSubmit)
	con.GET("/surveys/:id/export.xlsx", s.Export)

	api.GET("/surveys", s.APIList)
	api.POST("/surveys", admin, s.APICreate)
	api.GET("/surveys/:id", s.APIGet)
	api.POST("/surveys/:id/send", admin, s.APISend)
	api.POST("/surveys/:id/remind", admin, s.APIRemind)

	mpapi.GET("/surveys", a.mpAPI.Auth(), s.MPList)
	mpapi.GET("/surveys/:id", a.mpAPI.Auth(), s.MPGet)
	mpapi.POST("/surveys/:id/answers", a.mpAPI.Auth(), s.MPAnswer)

	r.GET("/s/:token", s.FormPage)
	r.POST("/s/:token", s.FormSubmit)
	r.GET("/s/survey/:id", s.OAuthStart) // no token: web OAuth says who he is
	r.GET("/s/oauth", s.OAuthCallback)
}
