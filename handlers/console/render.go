package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanzhen/yanzhen/scope"
)

// PageData is what every page template gets; Data is the page's own.
type PageData struct {
	Title  string
	Active string // the main-menu key of the page
	Viewer *Viewer
	CSRF   string
	Nav    []NavItem
	Flash  string
	Error  string
	Now    time.Time
	Data   any
}

// Page renders page name (web/templates/NAME.html) in the layout. An htmx request for a fragment
// (HX-Target naming a block the page defines, e.g. "table") gets just that fragment.
func (s *Service) Page(c *gin.Context, status int, name, active, title string, data any) {
	v := ViewerOf(c)
	pd := PageData{Title: title, Active: active, Viewer: v, CSRF: CSRFOf(c), Now: s.now(), Data: data}
	if v != nil {
		pd.Nav = s.navFor(v)
	}
	if f, err := c.Cookie(flashCookie); err == nil && f != "" {
		pd.Flash, _ = url.QueryUnescape(f)
		s.setCookie(c, flashCookie, "", -1)
	}
	if e, ok := data.(interface{ PageError() string }); ok {
		pd.Error = e.PageError()
	}
	block := "layout"
	if t := c.GetHeader("HX-Target"); t != "" && c.GetHeader("HX-Request") != "" && c.GetHeader("HX-Boosted") == "" {
		block = t
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := s.render.Block(c.Writer, name, block, pd); err != nil {
		if block != "layout" { // not a fragment of this page: the whole page
			err = s.render.Block(c.Writer, name, "layout", pd)
		}
		if err != nil {
			s.log.ErrorContext(c, "console: render", "page", name, "err", err)
		}
	}
}

// Redirect sends the browser to target (303) with a one-time message shown on the next page.
func (s *Service) Redirect(c *gin.Context, target, flash string) {
	if flash != "" {
		s.setCookie(c, flashCookie, url.QueryEscape(flash), 60)
	}
	c.Redirect(http.StatusSeeOther, target)
}

// InputError is a request the user can fix: a field and what is wrong with it, in Chinese.
type InputError struct {
	Field, Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Invalid makes an InputError.
func Invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// apiError is the body of every API error.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Fail answers an error: 400 for input errors, 403 outside the scope or the role, 404 for what is not
// there (or not in the viewer's scope), 500 (logged) for the rest. API calls get JSON, pages a page.
func (s *Service) Fail(c *gin.Context, err error) {
	status, code, msg, field := http.StatusInternalServerError, "internal", "出错了，请稍后再试。", ""
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		status, code, msg, field = http.StatusBadRequest, "invalid", ie.Message, ie.Field
	case errors.Is(err, scope.ErrNotFound):
		status, code, msg = http.StatusNotFound, "not_found", "没有找到，或不在你的管理范围内。"
	case errors.Is(err, scope.ErrForbidden):
		status, code, msg = http.StatusForbidden, "forbidden", "这不在你的管理范围内。"
	case errors.Is(err, ErrNotAllowed):
		status, code, msg = http.StatusForbidden, "forbidden", "你的角色不能做这件事，请联系管理员。"
	case errors.Is(err, ErrCSRF):
		status, code, msg = http.StatusForbidden, "csrf", "页面已过期，请刷新后重试。"
	default:
		s.log.ErrorContext(c, "console: request failed", "path", c.Request.URL.Path, "err", err)
	}
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.AbortWithStatusJSON(status, apiError{Error: code, Message: msg, Field: field})
		return
	}
	s.Page(c, status, "error", "", "", errorPage{Status: status, Message: msg})
	c.Abort()
}

type errorPage struct {
	Status  int
	Message string
}

// ListQuery is a table's search, filters, sort and page, read from the URL.
type ListQuery struct {
	Path    string
	Values  url.Values // every parameter, to rebuild links
	Q       string
	Sort    string
	Desc    bool
	Page    int
	PerPage int
}

// ParseList reads ?q=&sort=&dir=&page=&per_page= (sort limited to sorts; the first is the default).
func ParseList(c *gin.Context, sorts ...string) ListQuery {
	q := ListQuery{Path: c.Request.URL.Path, Values: c.Request.URL.Query(), PerPage: 50, Page: 1}
	q.Q = strings.TrimSpace(q.Values.Get("q"))
	if len([]rune(q.Q)) > 64 {
		q.Q = string([]rune(q.Q)[:64])
	}
	if len(sorts) > 0 {
		q.Sort = sorts[0]
		for _, s := range sorts {
			if s == q.Values.Get("sort") {
				q.Sort = s
			}
		}
	}
	q.Desc = q.Values.Get("dir") == "desc"
	if p, err := strconv.Atoi(q.Values.Get("page")); err == nil && p > 0 {
		q.Page = p
	}
	if n, err := strconv.Atoi(q.Values.Get("per_page")); err == nil && n > 0 {
		q.PerPage = min(n, 500)
	}
	return q
}

// Get is a filter's value.
func (q ListQuery) Get(name string) string { return strings.TrimSpace(q.Values.Get(name)) }

// Offset is the first row of the page.
func (q ListQuery) Offset() int { return (q.Page - 1) * q.PerPage }

// Dir is "desc" or "asc".
func (q ListQuery) Dir() string {
	if q.Desc {
		return "desc"
	}
	return "asc"
}

// With is the link to this list with some parameters changed (pairs of name, value; "" removes).
func (q ListQuery) With(kv ...string) string {
	v := url.Values{}
	for k, vs := range q.Values {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	if enc := v.Encode(); enc != "" {
		return q.Path + "?" + enc
	}
	return q.Path
}

// SortLink is the link that sorts by col (toggling the direction when already sorted by it).
func (q ListQuery) SortLink(col string) string {
	dir := "asc"
	if q.Sort == col && !q.Desc {
		dir = "desc"
	}
	return q.With("sort", col, "dir", dir, "page", "")
}

// SortClass is "asc" or "desc" for the column the list is sorted by.
func (q ListQuery) SortClass(col string) string {
	if q.Sort != col {
		return ""
	}
	return q.Dir()
}

// ExportLink is the export address with the same filters and sort (no page).
func (q ListQuery) ExportLink(path string) string {
	v := url.Values{}
	for k, vs := range q.Values {
		if k != "page" && k != "per_page" {
			v[k] = vs
		}
	}
	if enc := v.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

// Pager is the pagination of a list.
type Pager struct {
	Page, Pages, PerPage int
	Total                int64
	q                    ListQuery
}

// Pager paginates total rows.
func (q ListQuery) Pager(total int64) Pager {
	pages := int((total + int64(q.PerPage) - 1) / int64(q.PerPage))
	return Pager{Page: q.Page, Pages: max(pages, 1), PerPage: q.PerPage, Total: total, q: q}
}

// Link is the address of page p.
func (p Pager) Link(page int) string { return p.q.With("page", strconv.Itoa(page)) }

// FormErr is the input error of a page with a form. Embedded in the page's data, it gives the layout
// its banner (PageError) and each field its own message (FieldError).
type FormErr struct {
	Err *InputError
}

// PageError is the error banner's text ("" when the form is fine).
func (f FormErr) PageError() string {
	if f.Err == nil {
		return ""
	}
	return f.Err.Message
}

// FieldError is the message of one field, when it is the wrong one.
func (f FormErr) FieldError(field string) string {
	if f.Err == nil || f.Err.Field != field {
		return ""
	}
	return f.Err.Message
}
