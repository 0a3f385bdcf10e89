// Package config loads Yanzhen's configuration from environment variables and an optional YAML file,
// validates it, and reports the first bad value in one line that names the variable (never its value,
// when the variable is a secret).
package config

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Demo credentials: used when nothing is configured, so `yanzhen serve` and `yanzhen sim` work out of
// the box. They are not real WeChat accounts.
const (
	DemoOAAppID  = "wxdemo0a0000000001"
	DemoOASecret = "demo-oa-secret"
	DemoOAToken  = "yanzhendemo"
	DemoOAAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	DemoMPAppID  = "wxdemo0b0000000002"
	DemoMPSecret = "demo-mp-secret"
	DemoMPToken  = "yanzhendemomp"
	DemoMPAESKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"

	DefaultWeChatAPIBase = "https://api.weixin.qq.com"
)

// WeChatApp is one WeChat application's credentials (official account or mini-program).
type WeChatApp struct {
	AppID  string
	Secret string
	Token  string
	AESKey string // the 43-character EncodingAESKey
}

// IsDemo reports whether the app still uses the built-in demo credentials.
func (a WeChatApp) IsDemo() bool {
	return a.AppID == DemoOAAppID || a.AppID == DemoMPAppID
}

// Config is everything Yanzhen reads from its environment.
type Config struct {
	HTTPAddr      string
	DatabaseURL   string
	RedisURL      string // empty: embedded in-process Redis
	OA            WeChatApp
	MP            WeChatApp
	WeChatAPIBase string
	AdminUser     string
	AdminPassword string
	TZ            string
	Location      *time.Location
	// RemindTemplate is the official account's template id for study reminders to members who have not
	// written in 48 hours (outside the customer-service window); empty: those are skipped.
	RemindTemplate string
	// IndexDir is where each process keeps the snapshot of its policy Q&A index; empty: a folder
	// next to the SQLite file, or under the system's temp folder for other databases (see server).
	IndexDir string
	// PublicURL is the server's address as members' phones reach it (https://yz.example.gov.cn), for
	// links in notices (a survey's form); empty: links are relative and notices tell members to reply
	// in the chat instead.
	PublicURL string
	// BroadcastRate is the broadcast sends per second across every process ("" = the engine's
	// default, 200; "-1" = unlimited, for load tests against the fake WeChat API).
	BroadcastRate float64
	broadcastRate string
}

// field describes one configuration key: its environment variable, its default and where it goes.
type field struct {
	env    string
	def    string
	secret bool
	dst    func(c *Config) *string
}

var fields = []field{
	{env: "YANZHEN_HTTP_ADDR", def: ":8080", dst: func(c *Config) *string { return &c.HTTPAddr }},
	{env: "YANZHEN_DATABASE_URL", def: "sqlite://yanzhen.db", secret: true, dst: func(c *Config) *string { return &c.DatabaseURL }},
	{env: "YANZHEN_REDIS_URL", def: "", secret: true, dst: func(c *Config) *string { return &c.RedisURL }},
	{env: "YANZHEN_OA_APPID", def: DemoOAAppID, dst: func(c *Config) *string { return &c.OA.AppID }},
	{env: "YANZHEN_OA_SECRET", def: DemoOASecret, secret: true, dst: func(c *Config) *string { return &c.OA.Secret }},
	{env: "YANZHEN_OA_TOKEN", def: DemoOAToken, secret: true, dst: func(c *Config) *string { return &c.OA.Token }},
	{env: "YANZHEN_OA_AES_KEY", def: DemoOAAESKey, secret: true, dst: func(c *Config) *string { return &c.OA.AESKey }},
	{env: "YANZHEN_MP_APPID", def: DemoMPAppID, dst: func(c *Config) *string { return &c.MP.AppID }},
	{env: "YANZHEN_MP_SECRET", def: DemoMPSecret, secret: true, dst: func(c *Config) *string { return &c.MP.Secret }},
	{env: "YANZHEN_MP_TOKEN", def: DemoMPToken, secret: true, dst: func(c *Config) *string { return &c.MP.Token }},
	{env: "YANZHEN_MP_AES_KEY", def: DemoMPAESKey, secret: true, dst: func(c *Config) *string { return &c.MP.AESKey }},
	{env: "YANZHEN_WECHAT_API_BASE", def: DefaultWeChatAPIBase, dst: func(c *Config) *string { return &c.WeChatAPIBase }},
	{env: "YANZHEN_ADMIN_USER", def: "", dst: func(c *Config) *string { return &c.AdminUser }},
	{env: "YANZHEN_ADMIN_PASSWORD", def: "", secret: true, dst: func(c *Config) *string { return &c.AdminPassword }},
	{env: "YANZHEN_TZ", def: "Asia/Shanghai", dst: func(c *Config) *string { return &c.TZ }},
	{env: "YANZHEN_OA_REMIND_TEMPLATE", def: "", dst: func(c *Config) *string { return &c.RemindTemplate }},
	{env: "YANZHEN_INDEX_DIR", def: "", dst: func(c *Config) *string { return &c.IndexDir }},
	{env: "YANZHEN_PUBLIC_URL", def: "", dst: func(c *Config) *string { return &c.PublicURL }},
	{env: "YANZHEN_BROADCAST_RATE", def: "", dst: func(c *Config) *string { return &c.broadcastRate }},
}

// Error is a configuration error naming the variable at fault.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s %s", e.Var, e.Reason) }

// Load reads the YAML file at path (if not empty), then the environment (which wins), applies defaults
// and validates. getenv is usually os.Getenv; tests pass their own.
func Load(path string, getenv func(string) string) (*Config, error) {
	fromFile := map[string]string{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: read %s: %w", path, err)
		}
		raw := map[string]any{}
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("config: %s is not valid YAML: %w", path, err)
		}
		known := map[string]bool{}
		for _, f := range fields {
			known[f.env] = true
		}
		for k, v := range raw {
			key := strings.ToUpper(k)
			if !strings.HasPrefix(key, "YANZHEN_") {
				key = "YANZHEN_" + key
			}
			if !known[key] {
				return nil, &Error{Var: k, Reason: fmt.Sprintf("in %s is not a known setting", path)}
			}
			fromFile[key] = fmt.Sprint(v)
		}
	}
	c := &Config{}
	for _, f := range fields {
		v, ok := lookup(getenv, f.env)
		if !ok {
			v, ok = fromFile[f.env]
		}
		if !ok {
			v = f.def
		}
		*f.dst(c) = strings.TrimSpace(v)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// lookup treats an empty variable as unset, so `FOO= yanzhen` falls back to the file or the default.
func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func (c *Config) validate() error {
	if c.HTTPAddr == "" || !strings.Contains(c.HTTPAddr, ":") {
		return &Error{Var: "YANZHEN_HTTP_ADDR", Reason: "must look like host:port or :port"}
	}
	if _, err := DatabaseDialect(c.DatabaseURL); err != nil {
		return &Error{Var: "YANZHEN_DATABASE_URL", Reason: err.Error()}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return &Error{Var: "YANZHEN_REDIS_URL", Reason: "must be redis://host:port/db (or rediss://)"}
		}
	}
	for _, app := range []struct {
		prefix string
		a      WeChatApp
	}{{"YANZHEN_OA_", c.OA}, {"YANZHEN_MP_", c.MP}} {
		if app.a.AppID == "" {
			return &Error{Var: app.prefix + "APPID", Reason: "must not be empty"}
		}
		if app.a.Token == "" {
			return &Error{Var: app.prefix + "TOKEN", Reason: "must not be empty"}
		}
		if err := CheckAESKey(app.a.AESKey); err != nil {
			return &Error{Var: app.prefix + "AES_KEY", Reason: err.Error()}
		}
	}
	u, err := url.Parse(c.WeChatAPIBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{Var: "YANZHEN_WECHAT_API_BASE", Reason: "must be an http(s) URL such as https://api.weixin.qq.com"}
	}
	c.WeChatAPIBase = strings.TrimRight(c.WeChatAPIBase, "/")
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return &Error{Var: "YANZHEN_PUBLIC_URL", Reason: "must be an http(s) URL such as https://yz.example.gov.cn"}
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if (c.AdminUser == "") != (c.AdminPassword == "") {
		return &Error{Var: "YANZHEN_ADMIN_PASSWORD", Reason: "and YANZHEN_ADMIN_USER must be set together"}
	}
	if c.broadcastRate != "" {
		r, err := strconv.ParseFloat(c.broadcastRate, 64)
		if err != nil || r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return &Error{Var: "YANZHEN_BROADCAST_RATE", Reason: "must be a number of sends per second, e.g. 200 (-1: unlimited)"}
		}
		c.BroadcastRate = r
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return &Error{Var: "YANZHEN_TZ", Reason: "is not a known time zone (e.g. Asia/Shanghai)"}
	}
	c.Location = loc
	return nil
}

// CheckAESKey validates a WeChat EncodingAESKey: 43 characters of base64 that decode to 32 bytes.
func CheckAESKey(k string) error {
	if len(k) != 43 {
		return fmt.Errorf("must be 43 characters (it has %d)", len(k))
	}
	b, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(b) != 32 {
		return fmt.Errorf("is not a valid EncodingAESKey (base64 of 32 bytes)")
	}
	return nil
}

// DatabaseDialect returns "sqlite", "postgres" or "mysql" for a database URL.
func DatabaseDialect(raw string) (string, error) {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return "", fmt.Errorf("must be sqlite://PATH, postgres://… or mysql://…")
	}
	switch scheme := raw[:i]; scheme {
	case "sqlite", "sqlite3":
		if len(raw) == i+3 {
			return "", fmt.Errorf("sqlite:// needs a file path")
		}
		return "sqlite", nil
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil {
			return "", fmt.Errorf("is not a valid URL")
		}
		return "postgres", nil
	case "mysql":
		if _, err := url.Parse(raw); err != nil {
			return "", fmt.Errorf("is not a valid URL")
		}
		return "mysql", nil
	default:
		return "", fmt.Errorf("has unknown scheme %q (use sqlite, postgres or mysql)", scheme)
	}
}
