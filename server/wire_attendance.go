package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/bot"
	"github.com/yanzhen/yanzhen/handlers/attendance"
	"github.com/yanzhen/yanzhen/schedule"
)

// attendParts are the App's fields of this part. The service itself (a.attend) is built in New and
// registered with the bot in registerCapabilities.
type attendParts struct {
	attendWeb *attendance.Web // console pages and API of check-ins, places, duty rules, holidays
}

// wireAttendance builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireAttendance() error {
	a.attendWeb = attendance.NewWeb(a.attend, a.console)
	// The leave / make-up / off-site part calls this after an approval that changes a past day.
	a.hooks.recompute = a.attend.Recompute
	// Yesterday's status for everyone, early in the morning (re-run safe: rows are upserted).
	if err := a.sched.Add(schedule.Job{Name: "attendance.status", At: "01:30", Run: a.attend.StatusJob}); err != nil {
		return err
	}
	a.demo = append(a.demo, func(ctx context.Context) error {
		places, err := a.attend.LoadDemo(ctx)
		for _, p := range places {
			a.log.Info("demo: check-in place (send it with /loc in yanzhen sim)", "org", p.OrgPath, "place", p.Name, "lat", p.Lat, "lng", p.Lng)
		}
		return err
	})
	return nil
}

// meetingCheckIn is "签到 CODE": the meetings part's check-in, when it is wired.
func (a *App) meetingCheckIn(ctx context.Context, c *bot.Context, code string) error {
	if h := a.hooks.meetingCode; h != nil {
		return h(ctx, c, code)
	}
	return attendance.ErrNoMeetings
}

// attendanceRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) attendanceRoutes(con, api, mpapi *gin.RouterGroup) {
	w := a.attendWeb
	// check-in records of a day; places (secretaries manage their village's); duty rules and the
	// county calendar (administrators change them)
	con.GET("/attendance/checkins", w.CheckInsPage)
	con.GET("/attendance/places", w.PlacesPage)
	con.GET("/attendance/places/new", w.NewPlacePage)
	con.POST("/attendance/places", w.CreatePlaceSubmit)
	con.GET("/attendance/places/import", w.ImportPlacesPage)
	con.POST("/attendance/places/import", w.ImportPlacesSubmit)
	con.GET("/attendance/places/import/template.csv", w.ImportTemplate)
	con.GET("/attendance/places/:id", w.EditPlacePage)
	con.POST("/attendance/places/:id", w.UpdatePlaceSubmit)
	con.POST("/attendance/places/:id/deactivate", w.DeactivatePlace)
	con.POST("/attendance/places/:id/activate", w.ActivatePlace)
	con.GET("/attendance/rules", w.RulesPage)
	con.POST("/attendance/rules", a.console.AdminOnly(), w.RulesSubmit)
	con.GET("/attendance/holidays", w.HolidaysPage)
	con.POST("/attendance/holidays", a.console.AdminOnly(), w.AddHolidaySubmit)
	con.POST("/attendance/holidays/:id/delete", a.console.AdminOnly(), w.DeleteHolidaySubmit)
	con.POST("/attendance/seasons", a.console.AdminOnly(), w.AddSeasonSubmit)
	con.POST("/attendance/seasons/:id/delete", a.console.AdminOnly(), w.DeleteSeasonSubmit)
	// JSON API
	api.GET("/attendance/places", w.APIPlaces)
	api.POST("/attendance/places", w.APICreatePlace)
	api.PATCH("/attendance/places/:id", w.APIUpdatePlace)
	api.GET("/attendance/checkins", w.APICheckIns)
	api.GET("/attendance/rules", w.APIRule)
	// mini-program: check in / out with coordinates; the member's day
	mpapi.POST("/attendance/checkin", a.mpAPI.Auth(), a.attend.MPCheckIn)
	mpapi.GET("/attendance/today", a.mpAPI.Auth(), a.attend.MPToday)
}
