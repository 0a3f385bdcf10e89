package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
	"github.com/yanzhen/yanzhen/internal/linktoken"
	"github.com/yanzhen/yanzhen/models"
)

// broadcastParts are the App's fields of this part: broadcasts of notices to org subtrees × roles, the
// engine that delivers them (started by Serve) and their console pages and API.
type broadcastParts struct {
	bcast *broadcast.Service
	bcEng *broadcast.Engine
	bcWeb *broadcast.Web
}

// wireBroadcast builds this part's services and registers its console menu. The engine sends through
// the shared notifier (a.notify: customer-service message inside the 48-hour window, template message
// outside it) under a rate limit shared by every process.
func (a *App) wireBroadcast() error {
	a.bcast = broadcast.New(a.db, a.log, a.now, a.console.Record)
	// notices' pages are signed like the survey form's links (one key from the account's secrets)
	a.bcast.UseNoticeLinks(linktoken.Key(a.cfg.OA.Secret, a.cfg.OA.AESKey), a.cfg.PublicURL)
	a.bcEng = broadcast.NewEngine(a.bcast, broadcast.EngineOptions{Redis: a.rdb.Client, Teller: a.notify, Rate: a.cfg.BroadcastRate,
		// a survey's notice carries each recipient's own link to its form, a notice his own link to
		// its page (opening either marks him read)
		PersonalLinks: func(ctx context.Context, id uint, kind, payload string) (func(uint) string, error) {
			if kind == models.BroadcastSurvey {
				return a.surveys.PersonalLinks(ctx, kind, payload)
			}
			return a.bcast.NoticeLinks(ctx, id, kind, payload)
		},
		Recorded: func(outcome string, n int) { a.metrics.Broadcast.WithLabelValues(outcome).Add(float64(n)) },
		Mass:     a.wx, // notices sent by mass send (群发): tags and sendall on the official account
	})
	a.bcWeb = broadcast.NewWeb(a.bcast, a.console, a.bcEng)
	a.bcast.Register(a.router) // WeChat's report of a mass send (MASSSENDJOBFINISH)
	return nil
}

// Broadcasts is the broadcast delivery engine (tests run it; Serve does in production).
func (a *App) Broadcasts() *broadcast.Engine { return a.bcEng }

// BroadcastService is the broadcast capability (tests: UseNoticeLinks without a public address).
func (a *App) BroadcastService() *broadcast.Service { return a.bcast }

// broadcastRoutes adds this part's routes: console pages (con), the JSON API (api), the mini-program API
// (mpapi) and the public notice page (r), whose signed link is its permission.
func (a *App) broadcastRoutes(r *gin.Engine, con, api, mpapi *gin.RouterGroup) {
	admin := a.console.AdminOnly()
	con.GET("/broadcasts", a.bcWeb.ListPage)
	con.GET("/broadcasts/new", admin, a.bcWeb.NewPage)
	con.POST("/broadcasts", admin, a.bcWeb.CreateSubmit)
	con.GET("/broadcasts/:id", a.bcWeb.Page)
	con.POST("/broadcasts/:id/pause", admin, a.bcWeb.PauseSubmit)
	con.POST("/broadcasts/:id/resume", admin, a.bcWeb.ResumeSubmit)
	con.POST("/broadcasts/:id/cancel", admin, a.bcWeb.CancelSubmit)
	con.POST("/broadcasts/:id/approve", admin, a.bcWeb.ApproveSubmit)
	con.POST("/broadcasts/:id/remind", admin, a.bcWeb.RemindSubmit)
	api.GET("/broadcasts", a.bcWeb.APIList)
	api.POST("/broadcasts", admin, a.bcWeb.APICreate)
	api.GET("/broadcasts/:id", a.bcWeb.APIGet)
	api.POST("/broadcasts/:id/pause", admin, a.bcWeb.APIPause)
	api.POST("/broadcasts/:id/resume", admin, a.bcWeb.APIResume)
	api.POST("/broadcasts/:id/cancel", admin, a.bcWeb.APICancel)
	api.POST("/broadcasts/:id/approve", admin, a.bcWeb.APIApprove)
	api.POST("/broadcasts/:id/remind", admin, a.bcWeb.APIRemind)

	r.GET("/n/:token", a.bcWeb.NoticePage)
}
