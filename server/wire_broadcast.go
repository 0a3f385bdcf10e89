package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/broadcast"
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
	a.bcEng = broadcast.NewEngine(a.bcast, broadcast.EngineOptions{Redis: a.rdb.Client, Teller: a.notify, Rate: a.cfg.BroadcastRate,
		// a survey's notice carries each recipient's own link to its form
		PersonalLinks: func(ctx context.Context, kind, payload string) (func(uint) string, error) {
			return a.surveys.PersonalLinks(ctx, kind, payload)
		}})
	a.bcWeb = broadcast.NewWeb(a.bcast, a.console, a.bcEng.InFlightWindow())
	return nil
}

// Broadcasts is the broadcast delivery engine (tests run it; Serve does in production).
func (a *App) Broadcasts() *broadcast.Engine { return a.bcEng }

// broadcastRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) broadcastRoutes(con, api, mpapi *gin.RouterGroup) {
	admin := a.console.AdminOnly()
	con.GET("/broadcasts", a.bcWeb.ListPage)
	con.GET("/broadcasts/new", admin, a.bcWeb.NewPage)
	con.POST("/broadcasts", admin, a.bcWeb.CreateSubmit)
	con.GET("/broadcasts/:id", a.bcWeb.Page)
	con.POST("/broadcasts/:id/pause", admin, a.bcWeb.PauseSubmit)
	con.POST("/broadcasts/:id/resume", admin, a.bcWeb.ResumeSubmit)
	con.POST("/broadcasts/:id/cancel", admin, a.bcWeb.CancelSubmit)
	con.POST("/broadcasts/:id/approve", admin, a.bcWeb.ApproveSubmit)
	api.GET("/broadcasts", a.bcWeb.APIList)
	api.POST("/broadcasts", admin, a.bcWeb.APICreate)
	api.GET("/broadcasts/:id", a.bcWeb.APIGet)
	api.POST("/broadcasts/:id/pause", admin, a.bcWeb.APIPause)
	api.POST("/broadcasts/:id/resume", admin, a.bcWeb.APIResume)
	api.POST("/broadcasts/:id/cancel", admin, a.bcWeb.APICancel)
	api.POST("/broadcasts/:id/approve", admin, a.bcWeb.APIApprove)
}
