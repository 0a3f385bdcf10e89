package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one table of every HTTP route the server answers.
func (a *App) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(a.requestMiddleware(), gin.CustomRecovery(a.recovered))
	// X-Forwarded-For is believed only from a proxy on this host or a private network (the login rate
	// limit counts by client address).
	r.SetTrustedProxies([]string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"})

	r.GET("/wechat/oa", gin.WrapH(a.oa))
	r.POST("/wechat/oa", gin.WrapH(a.oa))
	r.GET("/wechat/mp", gin.WrapH(a.mp))
	r.POST("/wechat/mp", gin.WrapH(a.mp))

	// Console pages: the login forms are public, everything else needs a session (and CSRF on changes).
	r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console/") })
	r.GET("/console/static/*file", gin.WrapH(a.console.Static()))
	r.HEAD("/console/static/*file", gin.WrapH(a.console.Static()))
	r.GET("/console/login", a.console.LoginPage)
	r.POST("/console/login", a.console.LoginSubmit)
	r.GET("/console/login/qr", a.console.QRLoginPage)
	r.POST("/console/login/qr", a.console.QRLoginFinish)
	r.GET("/api/v1/login/qr/:token", a.console.QRLoginStatus) // public: the login page polls it
	con := r.Group("/console", a.console.Pages())
	con.GET("/", a.console.DashboardPage)
	con.POST("/logout", a.console.Logout)
	// roster pages (org tree, members, import, export, bind sheets)
	// accounts and audit pages

	// JSON API: token or session; the OpenAPI document lists every /api/v1 route.
	api := r.Group("/api/v1", a.console.API())
	api.GET("/dashboard", a.console.DashboardAPI)
	// roster API
	// accounts and audit API

	r.GET("/api/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", a.openapi) })

	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{})))
	if a.fakeAPI != nil {
		// Demo credentials only: what the bot "sent" to the fake WeChat API, for `yanzhen sim`.
		r.GET("/_fake/calls", gin.WrapH(a.fakeAPI))
	}
	a.engine = r
	return r
}

// requestMiddleware gives every request an id (echoed in X-Request-Id and every log line) and counts
// it by route.
func (a *App) requestMiddleware() gin.HandlerFunc {
	ids := newRequestIDs()
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = ids.next()
		}
		c.Header("X-Request-Id", id)
		c.Request = c.Request.WithContext(WithRequestID(c.Request.Context(), id))
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		a.metrics.Requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		a.metrics.Latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

func (a *App) recovered(c *gin.Context, err any) {
	a.log.ErrorContext(c.Request.Context(), "http: panic", "err", err, "path", c.Request.URL.Path)
	c.AbortWithStatus(http.StatusInternalServerError)
}

// readyz reports whether the database and Redis answer.
func (a *App) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, code := gin.H{"database": "ok", "redis": "ok"}, http.StatusOK
	if sqlDB, err := a.db.DB(); err != nil || sqlDB.PingContext(ctx) != nil {
		status["database"], code = "unreachable", http.StatusServiceUnavailable
	}
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		status["redis"], code = "unreachable", http.StatusServiceUnavailable
	}
	c.JSON(code, status)
}
