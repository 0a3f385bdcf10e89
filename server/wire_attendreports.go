package server

import "github.com/gin-gonic/gin"

// reportParts are the App's fields of this part.
type reportParts struct{}

// wireAttendReports builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireAttendReports() error { return nil }

// reportRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) reportRoutes(con, api, mpapi *gin.RouterGroup) {}
