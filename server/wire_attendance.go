package server

import "github.com/gin-gonic/gin"

// attendParts are the App's fields of this part.
type attendParts struct{}

// wireAttendance builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireAttendance() error { return nil }

// attendanceRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) attendanceRoutes(con, api, mpapi *gin.RouterGroup) {}
