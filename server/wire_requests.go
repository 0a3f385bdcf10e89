package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/attendance/requests"
)

// requestParts are the App's fields of this part.
type requestParts struct {
	requests *requests.Service // leave, make-up and off-site requests
	reqWeb   *requests.Web     // their console pages and API
}

// wireRequests builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireRequests() error {
	a.requests = requests.New(requests.Options{
		DB: a.db, Log: a.log, Now: a.now, Location: a.cfg.Location, Notifier: a.notify, Audit: a.console,
		// Read at run time: wireAttendance, which sets the hook, runs after this.
		Recompute: func(ctx context.Context, memberIDs []uint, day string) error {
			if a.hooks.recompute == nil {
				return nil
			}
			return a.hooks.recompute(ctx, memberIDs, day)
		},
	})
	a.requests.Register(a.router)
	a.reqWeb = requests.NewWeb(a.requests, a.console)
	return nil
}

// offsiteFiled tells the village's secretaries of an off-site check-in waiting for them (the check-in
// part files it). A failure to tell is logged: the request waits in 审批 all the same.
func (a *App) offsiteFiled(ctx context.Context, requestID uint) {
	if a.requests == nil {
		return
	}
	if _, err := a.requests.TellNew(ctx, requestID); err != nil {
		a.log.WarnContext(ctx, "requests: secretaries not told of an off-site request", "request", requestID, "err", err)
	}
}

// Requests is the leave / make-up / off-site requests capability (tests).
func (a *App) Requests() *requests.Service { return a.requests }

// requestRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) requestRoutes(con, api, mpapi *gin.RouterGroup) {
	// 请假审批: the list (pending first), one request with approve / reject, the county's quota
	con.GET("/requests", a.reqWeb.ListPage)
	con.GET("/requests/quota", a.reqWeb.QuotaPage)
	con.POST("/requests/quota", a.console.AdminOnly(), a.reqWeb.QuotaSubmit)
	con.GET("/requests/:id", a.reqWeb.RequestPage)
	con.POST("/requests/:id/approve", a.reqWeb.ApproveSubmit)
	con.POST("/requests/:id/reject", a.reqWeb.RejectSubmit)
	api.GET("/attendance/requests", a.reqWeb.APIList)
	api.POST("/attendance/requests/:id/approve", a.reqWeb.APIApprove)
	api.POST("/attendance/requests/:id/reject", a.reqWeb.APIReject)
}
