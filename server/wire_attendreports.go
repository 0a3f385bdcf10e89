package server

import (
	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/handlers/attendance/reports"
	"github.com/yanzhen/yanzhen/schedule"
)

// reportParts are the App's fields of this part.
type reportParts struct {
	reports *reports.Service // attendance reports, the board, 考勤 in the chat, the weekly summary
	rptWeb  *reports.Web
}

// wireAttendReports builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireAttendReports() error {
	// The today-summary tells late check-ins by the duty rules of the check-in part.
	a.reports = reports.New(reports.Options{DB: a.db, Log: a.log, Now: a.now, Location: a.cfg.Location, Notifier: a.notify, LateIn: a.attend.LateIn})
	a.reports.Register(a.router)
	a.rptWeb = reports.NewWeb(a.reports, a.console)
	// Last week's summary to every secretary and town administrator, on Mondays (other days: nothing).
	return a.sched.Add(schedule.Job{Name: reports.WeeklyJob, At: reports.WeeklyAt, Run: a.reports.Weekly})
}

// AttendanceReports is the attendance reports' service (tests and commands).
func (a *App) AttendanceReports() *reports.Service { return a.reports }

// reportRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) reportRoutes(con, api, mpapi *gin.RouterGroup) {
	w := a.rptWeb
	con.GET("/attendance/report", w.ReportPage)
	con.GET("/attendance/report/export.xlsx", w.ReportExport)
	con.GET("/attendance/report/members/:id", w.MemberPage)
	con.GET("/attendance/report/settings", a.console.AdminOnly(), w.SettingsPage)
	con.POST("/attendance/report/settings", a.console.AdminOnly(), w.SettingsSubmit)
	con.GET("/attendance/board", w.BoardPage)

	api.GET("/attendance/report", w.APIReport)
	api.GET("/attendance/board", w.APIBoard)

	// the board of the member's county, when the county made it public
	mpapi.GET("/attendance/board", a.mpAPI.Auth(), w.MPBoard)
}
