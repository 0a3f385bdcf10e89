package server

import "github.com/gin-gonic/gin"

// requestParts are the App's fields of this part.
type requestParts struct{}

// wireRequests builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wireRequests() error { return nil }

// requestRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) requestRoutes(con, api, mpapi *gin.RouterGroup) {}
