package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	neturl "net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/yanzhen/yanzhen/internal/consoletest"
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// loadSpec fetches /api/openapi.json from the running server and validates it as OpenAPI 3.
func loadSpec(t *testing.T, e *consoletest.Env) *openapi3.T {
	t.Helper()
	res, err := http.Get(e.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	return doc
}

// TestOpenAPIDocumentMatchesTheRouteTable: every /api/v1 route is documented and every documented
// operation is a route; secured operations answer 401 without a token, public ones do not.
func TestOpenAPIDocumentMatchesTheRouteTable(t *testing.T) {
	e := consoletest.New(t)
	doc := loadSpec(t, e)

	routes := map[string]bool{}
	for _, r := range e.App.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			routes[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Errorf("documented path %s is outside /api/v1/", path)
		}
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}
	var missing, extra []string
	for k := range routes {
		if documented[k] == nil {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routes[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes not in openapi.json: %v\nopenapi.json operations that are not routes: %v", missing, extra)
	}
	if len(routes) < 10 {
		t.Fatalf("only %d API routes: %v", len(routes), routes)
	}

	for key, op := range documented {
		method, path, _ := strings.Cut(key, " ")
		public := op.Security != nil && len(*op.Security) == 0
		url := e.URL + regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "1")
		var body io.Reader
		if method != http.MethodGet {
			body = strings.NewReader("{}")
		}
		req, _ := http.NewRequest(method, url, body)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch {
		case public && res.StatusCode == http.StatusUnauthorized:
			t.Errorf("%s is documented public (security: []) but answers 401", key)
		case !public && res.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s without a token: %d, want 401", key, res.StatusCode)
		}
	}
}

// TestAPIResponsesMatchTheDocument calls every documented GET as the county administrator (the
// mini-program's, /api/v1/mp/, as a bound mini-program user, after checking that the administrator's
// token is refused there with the documented 401) and checks the status and the body against the
// document's response schema.
func TestAPIResponsesMatchTheDocument(t *testing.T) {
	e := consoletest.New(t)
	doc := loadSpec(t, e)
	doc.Servers = openapi3.Servers{{URL: e.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	token := e.Token(consoletest.County)
	mpToken := mpSession(t, e)
	ids := pathIDs(t, e)
	checked := 0
	for path, item := range doc.Paths.Map() {
		if item.Get == nil {
			continue
		}
		tokens := []string{token}
		if strings.HasPrefix(path, "/api/v1/mp/") {
			tokens = []string{token, mpToken}
		}
		for _, tok := range tokens {
			wantStatus := 0 // any success
			if strings.HasPrefix(path, "/api/v1/mp/") && tok != mpToken {
				wantStatus = http.StatusUnauthorized // a console token is no mini-program session
			}
			url := e.URL + regexp.MustCompile(`\{([^}]+)\}`).ReplaceAllStringFunc(path, func(p string) string {
				name := strings.Trim(p, "{}")
				if v, ok := ids[path+":"+name]; ok {
					return v
				}
				return ids[name]
			})
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("%s: %v", url, err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
					Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
				Status: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(b)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true},
			}
			if wantStatus != 0 && res.StatusCode != wantStatus || wantStatus == 0 && res.StatusCode >= 300 && !strings.Contains(path, "/login/qr/") {
				t.Errorf("GET %s: %d %s", url, res.StatusCode, b)
				continue
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Errorf("GET %s: the response does not match the document: %v\n%s", path, err, truncate(b, 400))
			}
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("only %d GET operations checked", checked)
	}
}

// mpSession logs a mini-program user in and binds him to a demo member, and returns his session token.
func mpSession(t *testing.T, e *consoletest.Env) string {
	t.Helper()
	var login struct {
		Token string `json:"token"`
	}
	if st, body := e.API("", http.MethodPost, "/api/v1/mp/login", map[string]string{"code": "openapi-test"}, &login); st != http.StatusOK {
		t.Fatalf("mini-program login: %d %s", st, body)
	}
	var code string
	if err := e.App.DB().Table("members").Where("bind_code IS NOT NULL AND active = ?", true).Order("id").Limit(1).
		Select("bind_code").Row().Scan(&code); err != nil {
		t.Fatalf("a bind code: %v", err)
	}
	if st, body := e.API(login.Token, http.MethodPost, "/api/v1/mp/bind", map[string]string{"code": code}, nil); st != http.StatusOK {
		t.Fatalf("mini-program bind: %d %s", st, body)
	}
	return login.Token
}

// pathIDs are ids of real objects for the documented path parameters.
func pathIDs(t *testing.T, e *consoletest.Env) map[string]string {
	t.Helper()
	ids := map[string]string{"token": "no-such-token"}
	one := func(table, where string) string {
		var id string
		if err := e.App.DB().Table(table).Where(where).Select("id").Order("id").Limit(1).Row().Scan(&id); err != nil {
			t.Fatalf("id from %s: %v", table, err)
		}
		return id
	}
	ids["id"] = one("members", "1 = 1")
	ids["/api/v1/members/{id}:id"] = one("members", "1 = 1")
	ids["/api/v1/orgs/{id}:id"] = one("orgs", "1 = 1")
	ids["/api/v1/questions/{id}:id"] = one("questions", "1 = 1")
	ids["/api/v1/accounts/{id}:id"] = one("accounts", "username = 'guogou'")
	ids["/api/v1/audit/{id}:id"] = "1"
	ids["/api/v1/broadcasts/{id}:id"] = countyBroadcast(t, e)   // scope_matrix_test.go
	ids["/api/v1/surveys/{id}:id"] = one("surveys", "1 = 1")    // the demo survey
	ids["/api/v1/mp/surveys/{id}:id"] = one("surveys", "1 = 1") // the demo survey
	return ids
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func mustURL(s string) *neturl.URL {
	u, err := neturl.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
