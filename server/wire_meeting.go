package server

import "github.com/gin-gonic/gin"

// meetingParts are the App's fields of this part.
type meetingParts struct{}

// wireMeetings builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireMeetings() error { return nil }

// meetingRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) meetingRoutes(con, api, mpapi *gin.RouterGroup) {}
