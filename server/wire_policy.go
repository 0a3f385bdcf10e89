package server

import "github.com/gin-gonic/gin"

// policyParts are the App's fields of this part.
type policyParts struct{}

// wirePolicy builds this part's services and registers its bot routes, daily jobs and console menu.
func (a *App) wirePolicy() error { return nil }

// policyRoutes adds this part's routes: console pages (con), the JSON API (api) and the mini-program API (mpapi).
func (a *App) policyRoutes(con, api, mpapi *gin.RouterGroup) {}
