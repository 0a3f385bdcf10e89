package server

import "github.com/gin-gonic/gin"

// policyConsoleParts are the App's fields of this part.
type policyConsoleParts struct{}

// wirePolicyConsole builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wirePolicyConsole() error { return nil }

// policyConsoleRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) policyConsoleRoutes(con, api, mpapi *gin.RouterGroup) {}
