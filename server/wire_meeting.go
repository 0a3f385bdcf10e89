package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/meetings"
)

// meetingParts are the App's fields of this part.
type meetingParts struct {
	meetings *meetings.Service
}

// wireMeetings builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireMeetings() error {
	a.meetings = meetings.New(meetings.Options{
		DB: a.db, Redis: a.rdb.Client, Log: a.log, Now: a.now, Location: a.cfg.Location, QR: a.wx, Console: a.console,
	})
	a.meetings.Register(a.router)
	// 「签到 CODE」: the duty check-in's 签到 keyword hands the code over.
	a.hooks.meetingCode = a.meetings.CodeCheckIn
	a.demo = append(a.demo, func(ctx context.Context) error {
		code, err := a.meetings.LoadDemo(ctx)
		if err == nil && code != "" {
			a.log.Info("demo: a meeting of 郭沟村 tomorrow afternoon", "checkin", "签到 "+code)
		}
		return err
	})
	return nil
}

// meetingRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) meetingRoutes(con, api, mpapi *gin.RouterGroup) {
	m := a.meetings
	con.GET("/meetings", m.ListPage)
	con.GET("/meetings/new", m.NewPage)
	con.POST("/meetings", m.CreateSubmit)
	con.GET("/meetings/overdue", m.OverduePage)
	con.GET("/meetings/:id", m.MeetingPage)
	con.GET("/meetings/:id/screen", m.ScreenPage)
	con.GET("/meetings/:id/export.xlsx", m.Export)
	con.POST("/meetings/:id/attendance", m.MarkSubmit)
	con.POST("/meetings/:id/files", m.UploadSubmit)
	con.GET("/meetings/:id/files/:fid", m.FileDownload)

	api.GET("/meetings", m.APIList)
	api.POST("/meetings", m.APICreate)
	api.GET("/meetings/:id", m.APIGet)

	// the member's meetings that have not ended, and check-in with the code given out in the room
	mpapi.GET("/meetings", a.mpAPI.Auth(), m.MPList)
	mpapi.POST("/meetings/:id/checkin", a.mpAPI.Auth(), m.MPCheckIn)
}
