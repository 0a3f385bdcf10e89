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
	con.GET("/dashboard/export.xlsx", a.console.DashboardExport)
	con.POST("/logout", a.console.Logout)
	// roster pages (org tree, members, import, export, bind sheets)
	con.GET("/orgs", a.rweb.OrgsPage)
	con.POST("/orgs", a.console.AdminOnly(), a.rweb.CreateOrgSubmit)
	con.GET("/orgs/:id/bindsheet", a.rweb.BindSheet)
	con.GET("/members", a.rweb.MembersPage)
	con.GET("/members/export.xlsx", a.rweb.MembersExport)
	con.GET("/members/new", a.rweb.NewMemberPage)
	con.POST("/members", a.rweb.CreateMemberSubmit)
	con.GET("/members/:id", a.rweb.MemberPage)
	con.GET("/members/:id/edit", a.rweb.EditMemberPage)
	con.POST("/members/:id", a.rweb.UpdateMemberSubmit)
	con.POST("/members/:id/deactivate", a.rweb.DeactivateMember)
	con.POST("/members/:id/activate", a.rweb.ActivateMember)
	con.POST("/members/:id/bindcode", a.rweb.NewBindCodeSubmit)
	con.GET("/import", a.rweb.ImportPage)
	con.POST("/import", a.rweb.ImportSubmit)
	con.GET("/import/template.csv", a.rweb.ImportTemplate)
	// question bank (one per installation: every viewer reads it, administrators change it)
	con.GET("/questions", a.qweb.QuestionsPage)
	con.GET("/questions/export.xlsx", a.qweb.QuestionsExport)
	con.GET("/questions/import", a.console.AdminOnly(), a.qweb.ImportPage)
	con.POST("/questions/import", a.console.AdminOnly(), a.qweb.ImportSubmit)
	con.GET("/questions/import/template.csv", a.qweb.ImportTemplate)
	con.GET("/questions/:id", a.qweb.QuestionPage)
	con.GET("/questions/:id/edit", a.console.AdminOnly(), a.qweb.EditQuestionPage)
	con.POST("/questions/:id/edit", a.console.AdminOnly(), a.qweb.UpdateQuestionSubmit)
	con.POST("/questions/:id/retire", a.console.AdminOnly(), a.qweb.RetireQuestion)
	con.POST("/questions/:id/restore", a.console.AdminOnly(), a.qweb.RestoreQuestion)
	// study pages (progress by unit and member, a member's study, the study rule editor)
	con.GET("/study", a.sweb.ProgressPage)
	con.GET("/study/export.xlsx", a.sweb.ProgressExport)
	con.GET("/study/members", a.sweb.MembersPage)
	con.GET("/study/members/export.xlsx", a.sweb.MembersExport)
	con.GET("/study/members/:id", a.sweb.MemberPage)
	con.GET("/study/rules", a.sweb.RulesPage)
	con.POST("/study/rules", a.console.AdminOnly(), a.sweb.RulesSubmit)
	// accounts and audit pages
	con.GET("/me", a.console.MePage)
	con.POST("/me/password", a.console.ChangePasswordSubmit)
	con.POST("/me/tokens", a.console.CreateTokenSubmit)
	con.POST("/me/tokens/:tid/revoke", a.console.RevokeOwnTokenSubmit)
	con.GET("/accounts", a.console.AdminOnly(), a.console.AccountsPage)
	con.GET("/accounts/export.xlsx", a.console.AdminOnly(), a.console.AccountsExport)
	con.GET("/accounts/new", a.console.AdminOnly(), a.console.NewAccountPage)
	con.POST("/accounts", a.console.AdminOnly(), a.console.CreateAccountSubmit)
	con.GET("/accounts/:id", a.console.AdminOnly(), a.console.AccountPage)
	con.POST("/accounts/:id", a.console.AdminOnly(), a.console.UpdateAccountSubmit)
	con.POST("/accounts/:id/tokens/:tid/revoke", a.console.AdminOnly(), a.console.RevokeAccountTokenSubmit)
	con.GET("/audit", a.console.AdminOnly(), a.console.AuditPage)
	con.GET("/audit/export.xlsx", a.console.AdminOnly(), a.console.AuditExport)
	con.GET("/audit/:id", a.console.AdminOnly(), a.console.AuditEntryPage)

	// JSON API: token or session; the OpenAPI document lists every /api/v1 route.
	api := r.Group("/api/v1", a.console.API())
	api.GET("/dashboard", a.console.DashboardAPI)
	// roster API
	api.GET("/orgs", a.rweb.APIOrgs)
	api.POST("/orgs", a.console.AdminOnly(), a.rweb.APICreateOrg)
	api.GET("/orgs/:id", a.rweb.APIOrg)
	api.GET("/members", a.rweb.APIMembers)
	api.POST("/members", a.rweb.APICreateMember)
	api.POST("/members/import", a.rweb.APIImport)
	api.GET("/members/:id", a.rweb.APIMember)
	api.PATCH("/members/:id", a.rweb.APIUpdateMember)
	// question bank
	api.GET("/questions", a.qweb.APIQuestions)
	api.POST("/questions/import", a.console.AdminOnly(), a.qweb.APIImport)
	api.GET("/questions/:id", a.qweb.APIQuestion)
	api.PATCH("/questions/:id", a.console.AdminOnly(), a.qweb.APIUpdateQuestion)
	// study console API
	api.GET("/study/progress", a.sweb.APIProgress)
	api.GET("/study/members", a.sweb.APIMembers)
	// accounts and audit API
	api.GET("/me", a.console.MeAPI)
	api.GET("/accounts", a.console.AdminOnly(), a.console.AccountsAPI)
	api.POST("/accounts", a.console.AdminOnly(), a.console.CreateAccountAPI)
	api.GET("/accounts/:id", a.console.AdminOnly(), a.console.AccountAPI)
	api.PATCH("/accounts/:id", a.console.AdminOnly(), a.console.UpdateAccountAPI)
	api.GET("/audit", a.console.AdminOnly(), a.console.AuditAPI)
	// completion tests (结业测试): those of the viewer's part of the tree with their results; made by administrators
	api.GET("/exams", a.exams.APIExams)
	api.POST("/exams", a.console.AdminOnly(), a.exams.APICreateExam)

	// Mini-program member API: its own session tokens (yzm_…, from wx.login), not the console's, so its
	// own group on r. Login is public; bind, me and logout need a session; every other capability's
	// member route goes behind Auth (bound, active members; mp.MemberOf(c) is the member), one line each:
	//	mpapi.GET("/study/today", a.mpAPI.Auth(), a.study.MPToday)
	mpapi := r.Group("/api/v1/mp")
	mpapi.POST("/login", a.mpAPI.Login)
	mpapi.POST("/bind", a.mpAPI.Session(), a.mpAPI.Bind)
	mpapi.GET("/me", a.mpAPI.Session(), a.mpAPI.Me)
	mpapi.POST("/logout", a.mpAPI.Session(), a.mpAPI.Logout)
	// study: today's task, answers (one or all at once), history, wrong-answer book, figures, boards
	mpapi.GET("/study/today", a.mpAPI.Auth(), a.study.MPToday)
	mpapi.POST("/study/answers", a.mpAPI.Auth(), a.study.MPAnswer)
	mpapi.GET("/study/history", a.mpAPI.Auth(), a.study.MPHistory)
	mpapi.GET("/study/wrong", a.mpAPI.Auth(), a.study.MPWrong)
	mpapi.GET("/study/stats", a.mpAPI.Auth(), a.study.MPStats)
	mpapi.GET("/study/board", a.mpAPI.Auth(), a.study.MPBoard)
	// completion tests: the member's open exams, start (or resume) an attempt, answer, hand in
	mpapi.GET("/exams", a.mpAPI.Auth(), a.exams.MPExams)
	mpapi.POST("/exams/:id/attempts", a.mpAPI.Auth(), a.exams.MPStartAttempt)
	mpapi.POST("/exams/:id/attempts/:n/answers", a.mpAPI.Auth(), a.exams.MPAnswer)
	mpapi.POST("/exams/:id/attempts/:n/finish", a.mpAPI.Auth(), a.exams.MPFinish)

	// the parts wired in wire_*.go
	a.attendanceRoutes(con, api, mpapi)
	a.meetingRoutes(con, api, mpapi)
	a.requestRoutes(con, api, mpapi)
	a.reportRoutes(con, api, mpapi)
	a.policyRoutes(con, api, mpapi)
	a.policyConsoleRoutes(con, api, mpapi)
	a.broadcastRoutes(r, con, api, mpapi)
	a.surveyRoutes(r, con, api, mpapi)

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
