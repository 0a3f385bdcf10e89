// Package wxfake imitates api.weixin.qq.com for the calls Yanzhen makes, so tests and the demo run
// without WeChat. It issues access tokens, answers the message, QR-code, mass-send, tagging and
// jscode2session APIs with WeChat's own JSON shapes and error codes, records every call, and can be
// told to fail (an error code, a delay, an outage, a user who unsubscribed).
//
// A *Server is an http.Handler: use it with httptest.NewServer in tests, or ListenAndServe beside a
// demo server or as its own process (`yanzhen fakewechat`). Its own endpoints, under /_fake/:
//
//	GET  /_fake/calls?openid=&since=&all=1          the messages sent to a user (a terminal simulator)
//	GET  /_fake/stats                                counts: token fetches, calls, delivered, duplicates
//	POST /_fake/fault?api=NAME&errcode=N&times=K    Fail (times -1: until cleared, 0: clear)
//	POST /_fake/status?api=NAME&status=503&times=K  FailStatus
//	POST /_fake/delay?api=NAME&ms=3000              Delay (ms=0 clears)
//	POST /_fake/down?on=1|0                         Down
//	POST /_fake/reset-faults                        ClearFaults
//
// NAME is one of APIs() (a path such as /cgi-bin/message/custom/send) or * for every API.
package wxfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The WeChat API paths the fake answers (Call.API is one of these, or an unknown path).
const (
	APIStableToken      = "/cgi-bin/stable_token"
	APIToken            = "/cgi-bin/token"
	APICustomSend       = "/cgi-bin/message/custom/send"
	APITemplateSend     = "/cgi-bin/message/template/send"
	APISubscribeBizSend = "/cgi-bin/message/subscribe/bizsend"
	APISubscribeSend    = "/cgi-bin/message/subscribe/send"
	APIQRCodeCreate     = "/cgi-bin/qrcode/create"
	APICode2Session     = "/sns/jscode2session"
	APIOAuthToken       = "/sns/oauth2/access_token" // the official account's web OAuth (see oauth.go)
	APIMassSend         = "/cgi-bin/message/mass/send"
	APIMassSendAll      = "/cgi-bin/message/mass/sendall"
	APIBatchTagging     = "/cgi-bin/tags/members/batchtagging"
)

// AllAPIs, given to Fail or Delay, applies to every path.
const AllAPIs = "*"

// TokenLifetime is the expires_in of every token the fake issues, as WeChat's.
const TokenLifetime = 7200 * time.Second

// Call is one recorded request.
type Call struct {
	Seq     int64 // 1, 2, 3… over the fake's life (Reset does not restart it)
	API     string
	Method  string
	Query   url.Values
	Body    []byte
	Token   string // the access_token query parameter, if any
	AppID   string // the app the token belongs to (token APIs and jscode2session: the appid sent)
	At      time.Time
	Status  int // HTTP status answered; 499 when the client gave up during a Delay
	ErrCode int // errcode answered (0 = success)

	// For message APIs: who it went to, its msgtype, and a readable rendering of it.
	To      []string
	MsgType string
	Text    string
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == http.StatusOK && c.ErrCode == 0 }

type token struct {
	appID   string
	expires time.Time
	invalid bool
}

type fault struct {
	errcode int
	status  int
	times   int // < 0: forever
}

type session struct{ openID, unionID string }

// Server is the fake. The zero value is not usable; call New.
type Server struct {
	now func() time.Time

	mu          sync.Mutex
	apps        map[string]string // appid → secret; empty: any app is accepted
	templates   map[string]bool   // empty: any template id is accepted
	tokens      map[string]*token
	current     map[string]string // appid → its current stable token
	fetches     map[string]int
	calls       []Call
	seq         int64
	faults      map[string]*fault
	delays      map[string]time.Duration
	down        bool
	userErrs    map[string]int
	sessions    map[string]session
	oauth       oauthState
	usedCodes   map[string]bool
	tickets     map[string]string // QR ticket → scene
	clientMsgID map[string]int64
	tags        map[int64]map[string]bool
	mass        massState // tags made, mass messages received, mass jobs (tags.go)
	nextID      int64

	// Measurements for load tests (MaxPerSecond, Delivered): message calls per second, messages delivered per openid,
	// per-user delays, and whether calls are kept (a 600,000-message run keeps only the counts).
	perSecond  map[int64]int
	sendTimes  []int64 // unix ns of every message API call since the last Reset, for MaxInWindow
	okTo       map[string]int
	userDelays map[string]time.Duration
	dropCalls  bool
	// Calls per API path, and of them those that succeeded, kept even when calls are not (Stats).
	apiCalls, apiOK map[string]int
}

// New returns a fake with no registered apps (any appid and secret get a token).
func New() *Server {
	s := &Server{now: time.Now}
	s.init()
	return s
}

func (s *Server) init() {
	s.apps = map[string]string{}
	s.templates = map[string]bool{}
	s.tokens = map[string]*token{}
	s.current = map[string]string{}
	s.sessions = map[string]session{}
	s.oauth = oauthState{codes: map[string]string{}, used: map[string]bool{}}
	s.usedCodes = map[string]bool{}
	s.tickets = map[string]string{}
	s.clientMsgID = map[string]int64{}
	s.tags = map[int64]map[string]bool{}
	s.mass = newMassState()
	s.resetFaults()
	s.nextID = 1000
}

func (s *Server) resetFaults() {
	s.fetches = map[string]int{}
	s.calls = nil
	s.perSecond = map[int64]int{}
	s.sendTimes = nil
	s.okTo = map[string]int{}
	s.apiCalls = map[string]int{}
	s.apiOK = map[string]int{}
	s.clearFaults()
}

// clearFaults drops every injected fault; s.mu is held (or s is being made).
func (s *Server) clearFaults() {
	s.faults = map[string]*fault{}
	s.delays = map[string]time.Duration{}
	s.down = false
	s.userErrs = map[string]int{}
	s.userDelays = map[string]time.Duration{}
}

// ListenAndServe serves the fake on addr (e.g. "127.0.0.1:9001") until it fails.
func (s *Server) ListenAndServe(addr string) error {
	srv := &http.Server{Addr: addr, Handler: s, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// AddApp registers an app. Once any app is registered, token requests for other appids get 40013 and
// a wrong secret gets 40125.
func (s *Server) AddApp(appID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appID] = secret
}

// AddTemplate registers template ids. Once any is registered, other ids get 40037.
func (s *Server) AddTemplate(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.templates[id] = true
	}
}

// AddSession makes jscode2session answer code with this openid and unionid. Unregistered codes get
// openid "mp_"+code and no unionid; the code "bad" gets 40029; a code used twice gets 40163.
func (s *Server) AddSession(code, openID, unionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[code] = session{openID, unionID}
}

// InvalidateTokens makes every token issued so far invalid (40001), as when another party forced a
// refresh; the next stable_token request issues a new one.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.invalid = true
	}
	clear(s.current)
}

// ExpireTokens makes every token issued so far expired (42001).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
	clear(s.current)
}

// TokenFetches counts the tokens handed to appid (stable_token and token requests that succeeded).
func (s *Server) TokenFetches(appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[appID]
}

// Fail makes the next times calls to api (a path, or AllAPIs) answer errcode; times < 0: until
// cleared with times == 0.
func (s *Server) Fail(api string, errcode, times int) {
	s.setFault(api, fault{errcode: errcode, status: http.StatusOK, times: times})
}

// FailStatus makes the next times calls to api answer HTTP status with an empty body.
func (s *Server) FailStatus(api string, status, times int) {
	s.setFault(api, fault{status: status, times: times})
}

func (s *Server) setFault(api string, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.times == 0 {
		delete(s.faults, api)
		return
	}
	s.faults[api] = &f
}

// Delay makes calls to api (a path, or AllAPIs) wait d before answering; 0 clears it. A client that
// gives up first is recorded with Status 499 and nothing happens.
func (s *Server) Delay(api string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, api)
		return
	}
	s.delays[api] = d
}

// Down makes every API call answer HTTP 503 (the /_fake/ endpoints still work).
func (s *Server) Down(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetUserError makes every message to openid (customer service, template, subscribe) answer errcode:
// 43004 unsubscribed, 45015 the 48-hour window closed, 45047 quota used, 43101 no subscription left.
// 0 clears it.
func (s *Server) SetUserError(openID string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errcode == 0 {
		delete(s.userErrs, openID)
		return
	}
	s.userErrs[openID] = errcode
}

// TagMembers returns the openids tagged with tagID through batchtagging, sorted.
func (s *Server) TagMembers(tagID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.tags[tagID] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// QRScene returns the scene of a QR code the fake created, as a scan would report it.
func (s *Server) QRScene(ticket string) (scene string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scene, ok = s.tickets[ticket]
	return scene, ok
}

// Reset forgets recorded calls, fetch counts and every injected fault (Fail, Delay, Down,
// SetUserError). Registered apps, templates and issued tokens stay; Seq keeps counting.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetFaults()
}

// ClearFaults drops every injected fault (Fail, FailStatus, Delay, Down, SetUserError, SetUserDelay)
// and keeps the recorded calls and counts, unlike Reset.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearFaults()
}

// Calls returns every recorded call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the recorded calls to one API path.
func (s *Server) CallsTo(api string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// TextsTo returns the contents of the customer-service text messages delivered to openid, oldest
// first.
func (s *Server) TextsTo(openID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		if c.API == APICustomSend && c.MsgType == "text" && c.OK() && len(c.To) == 1 && c.To[0] == openID {
			out = append(out, c.Text)
		}
	}
	return out
}

// Message is one outbound message as GET /_fake/calls lists it.
type Message struct {
	Seq     int64           `json:"seq"`
	API     string          `json:"api"`
	To      []string        `json:"to"`
	MsgType string          `json:"msgtype"`
	Text    string          `json:"text"` // a readable rendering
	Body    json.RawMessage `json:"body"`
	ErrCode int             `json:"errcode"`
	At      time.Time       `json:"at"`
}

// MessagesTo returns the messages with Seq > since sent to openid ("" = to anyone), including mass
// sends to a tag the user has; failed ones only when all is true.
func (s *Server) MessagesTo(openID string, since int64, all bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, c := range s.calls {
		if c.Seq <= since || c.MsgType == "" || (!all && !c.OK()) {
			continue
		}
		if openID != "" && !contains(c.To, openID) {
			continue
		}
		m := Message{Seq: c.Seq, API: c.API, To: c.To, MsgType: c.MsgType, Text: c.Text, ErrCode: c.ErrCode, At: c.At}
		if json.Valid(c.Body) {
			m.Body = c.Body
		}
		out = append(out, m)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ServeHTTP answers one request as WeChat would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathOAuthAuthorize {
		s.serveAuthorize(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.serveControl(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	c := Call{API: r.URL.Path, Method: r.Method, Query: r.URL.Query(), Body: body, Token: r.URL.Query().Get("access_token")}

	s.mu.Lock()
	down := s.down
	d, ok := s.delays[c.API]
	if !ok {
		d = s.delays[AllAPIs]
	}
	if len(s.userDelays) > 0 && messageAPIs[c.API] {
		var to struct {
			ToUser string `json:"touser"`
		}
		if json.Unmarshal(body, &to) == nil {
			d += s.userDelays[to.ToUser]
		}
	}
	s.mu.Unlock()

	if down {
		s.mu.Lock()
		c.Status = http.StatusServiceUnavailable
		s.record(&c)
		s.mu.Unlock()
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			s.mu.Lock()
			c.Status = 499
			s.record(&c)
			s.mu.Unlock()
			return
		}
	}

	s.mu.Lock()
	status, resp := s.handle(&c)
	c.Status = status
	if resp != nil {
		c.ErrCode, _ = resp["errcode"].(int)
	}
	s.record(&c)
	s.mu.Unlock()

	if resp == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}

// record appends c; s.mu is held.
func (s *Server) record(c *Call) {
	s.seq++
	c.Seq = s.seq
	c.At = s.now()
	api := c.API
	if _, known := routes[api]; !known {
		api = "unknown" // any path may be asked for: the counts stay small
	}
	s.apiCalls[api]++
	if c.OK() {
		s.apiOK[api]++
	}
	if messageAPIs[c.API] {
		s.perSecond[c.At.Unix()]++
		s.sendTimes = append(s.sendTimes, c.At.UnixNano())
		if c.OK() {
			for _, to := range c.To {
				s.okTo[to]++
			}
		}
	}
	if !s.dropCalls {
		s.calls = append(s.calls, *c)
	}
}

// messageAPIs send messages to users: the rate measurement counts calls to them.
var messageAPIs = map[string]bool{APICustomSend: true, APITemplateSend: true, APISubscribeBizSend: true, APISubscribeSend: true,
	APIMassSend: true, APIMassSendAll: true}

// KeepCalls(false) stops recording calls (Calls, MessagesTo see none), for long load tests; the
// measurements (MaxPerSecond, Delivered) go on.
func (s *Server) KeepCalls(keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropCalls = !keep
}

// MaxPerSecond is the most calls to message APIs answered within one second of the clock (succeeded
// or not), since the last Reset: what a rate limit in front of the fake must keep below its rate plus
// its burst.
func (s *Server) MaxPerSecond() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	most := 0
	for _, n := range s.perSecond {
		most = max(most, n)
	}
	return most
}

// MaxInWindow is the most calls to message APIs answered within any span of w (a sliding window),
// since the last Reset. A limiter of rate r and burst b admits at most r·w + b calls in any span w;
// at the fake, calls arrive a little after their admission (the scheduler, the network), so a test
// allows for that delay over a window of a few seconds rather than counting clock seconds.
func (s *Server) MaxInWindow(w time.Duration) int {
	s.mu.Lock()
	times := slices.Clone(s.sendTimes)
	s.mu.Unlock()
	slices.Sort(times)
	most, from := 0, 0
	for i, t := range times {
		for t-times[from] >= int64(w) {
			from++
		}
		most = max(most, i-from+1)
	}
	return most
}

// Delivered returns, for every openid, how many messages were delivered to him (calls that
// succeeded) since the last Reset: more than one for a single notice is a duplicate.
func (s *Server) Delivered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.okTo))
	for k, v := range s.okTo {
		out[k] = v
	}
	return out
}

// SetUserDelay makes every message to openid wait d before it is answered (a client with a shorter
// timeout sees a timeout, and nothing is delivered); 0 clears it.
func (s *Server) SetUserDelay(openID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.userDelays, openID)
		return
	}
	s.userDelays[openID] = d
}

type reply map[string]any

type route struct {
	token bool // needs a valid access_token
	fn    func(s *Server, c *Call) reply
}

var routes = map[string]route{
	APIStableToken:      {fn: (*Server).stableToken},
	APIToken:            {fn: (*Server).token},
	APICode2Session:     {fn: (*Server).code2Session},
	APIOAuthToken:       {fn: (*Server).oauthToken},
	APICustomSend:       {token: true, fn: (*Server).customSend},
	APITemplateSend:     {token: true, fn: (*Server).templateSend},
	APISubscribeBizSend: {token: true, fn: (*Server).subscribeSend},
	APISubscribeSend:    {token: true, fn: (*Server).subscribeSend},
	APIQRCodeCreate:     {token: true, fn: (*Server).qrCreate},
	APIMassSend:         {token: true, fn: (*Server).massSend},
	APIMassSendAll:      {token: true, fn: (*Server).massSend},
	APIBatchTagging:     {token: true, fn: (*Server).batchTagging},
	APIBatchUntagging:   {token: true, fn: (*Server).batchUntagging},
	APITagsCreate:       {token: true, fn: (*Server).tagsCreate},
	APITagsGet:          {token: true, fn: (*Server).tagsGet},
	APITagsDelete:       {token: true, fn: (*Server).tagsDelete},
}

// handle runs one API call; s.mu is held. A nil reply means an empty body.
func (s *Server) handle(c *Call) (int, reply) {
	rt, ok := routes[c.API]
	if !ok {
		return http.StatusNotFound, errReply(40066)
	}
	f := s.faults[c.API]
	if f == nil {
		f = s.faults[AllAPIs]
	}
	if f != nil {
		if f.times > 0 {
			f.times--
			if f.times == 0 {
				for k, v := range s.faults {
					if v == f {
						delete(s.faults, k)
					}
				}
			}
		}
		if f.status != http.StatusOK {
			return f.status, nil
		}
		return http.StatusOK, errReply(f.errcode)
	}
	if rt.token {
		appID, code := s.checkToken(c.Token)
		c.AppID = appID
		if code != 0 {
			return http.StatusOK, errReply(code)
		}
	}
	return http.StatusOK, rt.fn(s, c)
}

func (s *Server) checkToken(tok string) (appID string, errcode int) {
	if tok == "" {
		return "", 41001
	}
	t, ok := s.tokens[tok]
	if !ok || t.invalid {
		return "", 40001
	}
	if !s.now().Before(t.expires) {
		return t.appID, 42001
	}
	return t.appID, 0
}

func (s *Server) checkApp(appID, secret string) int {
	switch {
	case appID == "":
		return 41002
	case secret == "":
		return 41004
	case len(s.apps) == 0:
		return 0
	}
	want, ok := s.apps[appID]
	if !ok {
		return 40013
	}
	if want != secret {
		return 40125
	}
	return 0
}

func (s *Server) issue(appID string) (string, *token) {
	tok := "FAKE_" + randomHex(24)
	t := &token{appID: appID, expires: s.now().Add(TokenLifetime)}
	s.tokens[tok] = t
	s.fetches[appID]++
	return tok, t
}

func (s *Server) stableToken(c *Call) reply {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	c.AppID = req.AppID
	if req.GrantType != "client_credential" {
		return errReply(40002)
	}
	if code := s.checkApp(req.AppID, req.Secret); code != 0 {
		return errReply(code)
	}
	now := s.now()
	// Without force_refresh WeChat returns the current token until its last 5 minutes.
	if cur, ok := s.tokens[s.current[req.AppID]]; ok && !req.ForceRefresh && !cur.invalid && cur.expires.Sub(now) > 5*time.Minute {
		s.fetches[req.AppID]++
		return reply{"access_token": s.current[req.AppID], "expires_in": int(cur.expires.Sub(now) / time.Second)}
	}
	tok, _ := s.issue(req.AppID)
	s.current[req.AppID] = tok
	return reply{"access_token": tok, "expires_in": int(TokenLifetime / time.Second)}
}

func (s *Server) token(c *Call) reply {
	q := c.Query
	c.AppID = q.Get("appid")
	if q.Get("grant_type") != "client_credential" {
		return errReply(40002)
	}
	if code := s.checkApp(q.Get("appid"), q.Get("secret")); code != 0 {
		return errReply(code)
	}
	tok, _ := s.issue(q.Get("appid"))
	return reply{"access_token": tok, "expires_in": int(TokenLifetime / time.Second)}
}

func (s *Server) code2Session(c *Call) reply {
	q := c.Query
	c.AppID = q.Get("appid")
	if code := s.checkApp(q.Get("appid"), q.Get("secret")); code != 0 {
		return errReply(code)
	}
	code := q.Get("js_code")
	switch {
	case q.Get("grant_type") != "authorization_code":
		return errReply(40002)
	case code == "":
		return errReply(41008)
	case code == "bad":
		return errReply(40029)
	case s.usedCodes[code]:
		return errReply(40163)
	}
	s.usedCodes[code] = true
	sess, ok := s.sessions[code]
	if !ok {
		sess = session{openID: "mp_" + code}
	}
	key := make([]byte, 16)
	rand.Read(key)
	r := reply{"openid": sess.openID, "session_key": base64.StdEncoding.EncodeToString(key)}
	if sess.unionID != "" {
		r["unionid"] = sess.unionID
	}
	return r
}

type article struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl"`
}

var customTypes = map[string]bool{
	"text": true, "image": true, "voice": true, "video": true, "music": true, "news": true, "mpnews": true,
	"mpnewsarticle": true, "msgmenu": true, "wxcard": true, "miniprogrampage": true, "link": true,
}

func (s *Server) customSend(c *Call) reply {
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		News struct {
			Articles []article `json:"articles"`
		} `json:"news"`
		MiniProgramPage struct {
			Title    string `json:"title"`
			AppID    string `json:"appid"`
			PagePath string `json:"pagepath"`
		} `json:"miniprogrampage"`
		Link article `json:"link"`
	}
	if len(c.Body) == 0 {
		return errReply(44002)
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	if req.ToUser == "" {
		return errReply(40003)
	}
	c.To, c.MsgType = []string{req.ToUser}, req.MsgType
	if !customTypes[req.MsgType] {
		return errReply(40008)
	}
	switch req.MsgType {
	case "text":
		if strings.TrimSpace(req.Text.Content) == "" {
			return errReply(44004)
		}
		c.Text = req.Text.Content
	case "news":
		switch len(req.News.Articles) {
		case 0:
			return errReply(44003)
		case 1:
		default: // customer-service news carries one article since 2018
			return errReply(45008)
		}
		c.Text = renderArticle(req.News.Articles[0])
	case "link":
		c.Text = renderArticle(req.Link)
	case "miniprogrampage":
		if req.MiniProgramPage.PagePath == "" {
			return errReply(47003)
		}
		c.Text = "[miniprogram] " + req.MiniProgramPage.Title + " (" + req.MiniProgramPage.PagePath + ")"
	default:
		c.Text = "[" + req.MsgType + "]"
	}
	if code := s.userErrs[req.ToUser]; code != 0 {
		return errReply(code)
	}
	return okReply(nil)
}

func renderArticle(a article) string {
	parts := []string{a.Title}
	if a.Description != "" {
		parts = append(parts, a.Description)
	}
	if a.URL != "" {
		parts = append(parts, a.URL)
	}
	return strings.Join(parts, "\n")
}

type templateData map[string]struct {
	Value string `json:"value"`
}

func (d templateData) render() string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+": "+d[k].Value)
	}
	return strings.Join(lines, "\n")
}

func (s *Server) templateSend(c *Call) reply {
	var req struct {
		ToUser     string       `json:"touser"`
		TemplateID string       `json:"template_id"`
		URL        string       `json:"url"`
		Data       templateData `json:"data"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	if req.ToUser == "" {
		return errReply(40003)
	}
	c.To, c.MsgType = []string{req.ToUser}, "template"
	c.Text = "[template " + req.TemplateID + "]\n" + req.Data.render()
	if req.URL != "" {
		c.Text += "\n" + req.URL
	}
	if req.TemplateID == "" || (len(s.templates) > 0 && !s.templates[req.TemplateID]) {
		return errReply(40037)
	}
	if code := s.userErrs[req.ToUser]; code != 0 {
		return errReply(code)
	}
	s.nextID++
	return okReply(reply{"msgid": s.nextID})
}

// subscribeSend answers both the official account's bizsend and the mini-program's subscribe send.
func (s *Server) subscribeSend(c *Call) reply {
	var req struct {
		ToUser     string       `json:"touser"`
		TemplateID string       `json:"template_id"`
		Page       string       `json:"page"`
		Data       templateData `json:"data"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	if req.ToUser == "" {
		return errReply(40003)
	}
	c.To, c.MsgType = []string{req.ToUser}, "subscribe"
	c.Text = "[subscribe " + req.TemplateID + "]\n" + req.Data.render()
	if req.Page != "" {
		c.Text += "\n" + req.Page
	}
	switch {
	case req.TemplateID == "" || (len(s.templates) > 0 && !s.templates[req.TemplateID]):
		return errReply(40037)
	case len(req.Data) == 0:
		return errReply(47003)
	}
	if code := s.userErrs[req.ToUser]; code != 0 {
		return errReply(code)
	}
	return okReply(nil)
}

func (s *Server) qrCreate(c *Call) reply {
	var req struct {
		ExpireSeconds int64  `json:"expire_seconds"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene struct {
				SceneID  int64  `json:"scene_id"`
				SceneStr string `json:"scene_str"`
			} `json:"scene"`
		} `json:"action_info"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	var scene string
	switch req.ActionName {
	case "QR_SCENE", "QR_LIMIT_SCENE":
		scene = strconv.FormatInt(req.ActionInfo.Scene.SceneID, 10)
	case "QR_STR_SCENE", "QR_LIMIT_STR_SCENE":
		scene = req.ActionInfo.Scene.SceneStr
		if scene == "" || len(scene) > 64 {
			return errReply(47003)
		}
	default:
		return errReply(47003)
	}
	ticket := "gQ" + randomHex(20)
	s.tickets[ticket] = scene
	r := okReply(reply{"ticket": ticket, "url": "http://weixin.qq.com/q/" + ticket[:12]})
	delete(r, "errcode") // WeChat answers a created QR code without errcode
	delete(r, "errmsg")
	if !strings.HasPrefix(req.ActionName, "QR_LIMIT") {
		exp := req.ExpireSeconds
		if exp <= 0 {
			exp = 60
		}
		r["expire_seconds"] = min(exp, 2592000)
	}
	return r
}

func (s *Server) massSend(c *Call) reply {
	var req struct {
		ToUser json.RawMessage `json:"touser"`
		Filter struct {
			IsToAll bool  `json:"is_to_all"`
			TagID   int64 `json:"tag_id"`
		} `json:"filter"`
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		ClientMsgID string `json:"clientmsgid"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	c.MsgType = req.MsgType
	if req.MsgType == "text" {
		c.Text = req.Text.Content
	} else {
		c.Text = "[" + req.MsgType + "]"
	}
	// A clientmsgid seen before is answered first: nothing is sent again, whatever became of the
	// recipients (or the tag) since.
	if req.ClientMsgID != "" {
		if id, dup := s.clientMsgID[req.ClientMsgID]; dup {
			r := errReply(45065)
			r["msg_id"] = id
			return r
		}
	}
	if c.API == APIMassSend {
		var to []string
		if json.Unmarshal(req.ToUser, &to) != nil || len(to) < 2 || len(to) > 10000 {
			return errReply(40130)
		}
		c.To = to
	} else if !req.Filter.IsToAll {
		if _, ok := s.mass.names[req.Filter.TagID]; !ok {
			return errReply(45159)
		}
		for id := range s.tags[req.Filter.TagID] {
			c.To = append(c.To, id)
		}
		sort.Strings(c.To)
	}
	s.nextID++
	if req.ClientMsgID != "" {
		s.clientMsgID[req.ClientMsgID] = s.nextID
	}
	c.To = s.mass.deliver(s.nextID, c.To) // those over their monthly 4 are filtered
	return reply{"errcode": 0, "errmsg": "send job submission success", "msg_id": s.nextID, "msg_data_id": s.nextID}
}

func (s *Server) batchTagging(c *Call) reply {
	var req struct {
		OpenIDs []string `json:"openid_list"`
		TagID   int64    `json:"tagid"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	if len(req.OpenIDs) == 0 || len(req.OpenIDs) > 50 {
		return errReply(40032)
	}
	if _, ok := s.mass.names[req.TagID]; !ok {
		return errReply(45159)
	}
	if s.tags[req.TagID] == nil {
		s.tags[req.TagID] = map[string]bool{}
	}
	for _, id := range req.OpenIDs {
		if !s.tags[req.TagID][id] && s.mass.userTags[id] >= MaxUserTags {
			return errReply(45059)
		}
	}
	for _, id := range req.OpenIDs {
		if !s.tags[req.TagID][id] {
			s.tags[req.TagID][id] = true
			s.mass.userTags[id]++
		}
	}
	return okReply(nil)
}

// APIs lists the WeChat API paths the fake answers, sorted: the names Fail, Delay and the control
// endpoints take (with AllAPIs).
func APIs() []string {
	out := make([]string, 0, len(routes))
	for api := range routes {
		out = append(out, api)
	}
	sort.Strings(out)
	return out
}

// Stats are the fake's counts since the last Reset, as GET /_fake/stats answers them. They are kept
// whether or not calls are (KeepCalls).
type Stats struct {
	TokenFetches map[string]int `json:"token_fetches"`  // appid → tokens handed out (TokenFetches)
	Calls        map[string]int `json:"calls"`          // API path ("unknown" for others) → calls answered
	OK           map[string]int `json:"ok"`             // of them, those that succeeded
	Failed       map[string]int `json:"failed"`         // and those that did not (an errcode, an HTTP error, a 499)
	MaxPerSecond int            `json:"max_per_second"` // MaxPerSecond
	Delivered    int            `json:"delivered"`      // recipients who got at least one message
	Duplicates   int            `json:"duplicates"`     // messages delivered beyond the first, over all recipients
}

// Stats returns the counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{TokenFetches: map[string]int{}, Calls: map[string]int{}, OK: map[string]int{}, Failed: map[string]int{},
		Delivered: len(s.okTo)}
	for k, v := range s.fetches {
		st.TokenFetches[k] = v
	}
	for api, n := range s.apiCalls {
		st.Calls[api] = n
		st.OK[api] = s.apiOK[api]
		st.Failed[api] = n - s.apiOK[api]
	}
	for _, n := range s.perSecond {
		st.MaxPerSecond = max(st.MaxPerSecond, n)
	}
	for _, n := range s.okTo {
		st.Duplicates += n - 1
	}
	return st
}

// serveControl answers the fake's own endpoints (see the package doc).
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	method := http.MethodPost
	switch r.URL.Path {
	case "/_fake/calls", "/_fake/stats":
		method = http.MethodGet
	case "/_fake/fault", "/_fake/status", "/_fake/delay", "/_fake/down", "/_fake/reset-faults":
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		http.Error(w, "use "+method, http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/_fake/calls":
		s.serveCalls(w, r)
	case "/_fake/stats":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Stats())
	default:
		if err := s.control(r.URL.Path, r.URL.Query()); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`+"\n")
	}
}

// control applies one fault-injection request.
func (s *Server) control(path string, q url.Values) error {
	api := q.Get("api")
	needAPI := func() error {
		if api == AllAPIs {
			return nil
		}
		if _, ok := routes[api]; !ok {
			return fmt.Errorf("api=%q: want * or one of %s", api, strings.Join(APIs(), " "))
		}
		return nil
	}
	num := func(name string, def int, ok func(int) bool) (int, error) {
		v := q.Get(name)
		if v == "" && def != noDefault {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || !ok(n) {
			return 0, fmt.Errorf("%s=%q: not a valid number here", name, v)
		}
		return n, nil
	}
	anyInt := func(int) bool { return true }
	switch path {
	case "/_fake/fault", "/_fake/status":
		if err := needAPI(); err != nil {
			return err
		}
		times, err := num("times", 1, func(n int) bool { return n >= -1 })
		if err != nil {
			return err
		}
		if path == "/_fake/fault" {
			code, err := num("errcode", noDefault, anyInt)
			if err != nil {
				return err
			}
			s.Fail(api, code, times)
			return nil
		}
		status, err := num("status", noDefault, func(n int) bool { return n >= 100 && n <= 599 && n != http.StatusOK })
		if err != nil {
			return err
		}
		s.FailStatus(api, status, times)
	case "/_fake/delay":
		if err := needAPI(); err != nil {
			return err
		}
		ms, err := num("ms", noDefault, func(n int) bool { return n >= 0 })
		if err != nil {
			return err
		}
		s.Delay(api, time.Duration(ms)*time.Millisecond)
	case "/_fake/down":
		on, err := num("on", noDefault, func(n int) bool { return n == 0 || n == 1 })
		if err != nil {
			return err
		}
		s.Down(on == 1)
	case "/_fake/reset-faults":
		s.ClearFaults()
	}
	return nil
}

// noDefault marks a control parameter that must be given.
const noDefault = -1 << 31

// serveCalls answers GET /_fake/calls.
func (s *Server) serveCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	msgs := s.MessagesTo(q.Get("openid"), since, q.Get("all") == "1")
	s.mu.Lock()
	next := s.seq
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Messages []Message `json:"messages"`
		Next     int64     `json:"next"` // pass as since to get only newer messages
	}{msgs, next})
}

// ErrMsg is the errmsg the fake answers for errcode (WeChat's wording).
func ErrMsg(errcode int) string {
	if m, ok := errMsgs[errcode]; ok {
		return m
	}
	return "error"
}

var errMsgs = map[int]string{
	-1:    "system error",
	0:     "ok",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40008: "invalid message type",
	40013: "invalid appid",
	40014: "invalid access_token",
	40029: "invalid code",
	40032: "invalid openid list size",
	40037: "invalid template_id",
	40066: "invalid url",
	40125: "invalid appsecret",
	40130: "invalid openid list size, at least two openid",
	40163: "code been used",
	40164: "invalid ip, not in whitelist",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	41008: "missing code",
	42001: "access_token expired",
	43004: "require subscribe",
	43101: "user refuse to accept the msg",
	44002: "empty post data",
	44003: "empty news data",
	44004: "empty content",
	45008: "article size out of limit",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit, must slower retry next minute",
	45015: "response out of time limit or subscription is canceled",
	45047: "out of response count limit",
	45065: "clientmsgid exist",
	45056: "too many tags now",
	45057: "can't delete the tag that has too many fans",
	45058: "can't modify the tag",
	45059: "too many tag now, no need to add new",
	45157: "invalid tag name",
	45158: "tag name too long",
	45159: "invalid tag id",
	47001: "data format error",
	47003: "argument invalid!",
	48001: "api unauthorized",
}

func errReply(code int) reply {
	return reply{"errcode": code, "errmsg": ErrMsg(code) + " rid: " + randomHex(4)}
}

func okReply(extra reply) reply {
	r := reply{"errcode": 0, "errmsg": "ok"}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
