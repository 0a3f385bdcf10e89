package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsWork(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DatabaseURL != "sqlite://yanzhen.db" || c.RedisURL != "" ||
		c.WeChatAPIBase != DefaultWeChatAPIBase || c.Location.String() != "Asia/Shanghai" || !c.OA.IsDemo() {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "y.yaml")
	os.WriteFile(path, []byte("YANZHEN_HTTP_ADDR: \":9000\"\nredis_url: redis://10.0.0.1:6379/2\nYANZHEN_OA_APPID: wxfromfile\noa_remind_template: tpl-remind-1\n"), 0o600)
	c, err := Load(path, env(map[string]string{"YANZHEN_OA_APPID": "wxfromenv"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":9000" || c.RedisURL != "redis://10.0.0.1:6379/2" || c.OA.AppID != "wxfromenv" || c.RemindTemplate != "tpl-remind-1" {
		t.Fatalf("got %+v", c)
	}
	os.WriteFile(path, []byte("YANZHEN_NOPE: 1\n"), 0o600)
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "YANZHEN_NOPE") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestBadValuesNameTheVariableAndHideSecrets(t *testing.T) {
	const secret = "s3cr3t-value-xyz"
	cases := map[string]map[string]string{
		"YANZHEN_DATABASE_URL":    {"YANZHEN_DATABASE_URL": "oracle://" + secret},
		"YANZHEN_REDIS_URL":       {"YANZHEN_REDIS_URL": "http://" + secret},
		"YANZHEN_OA_AES_KEY":      {"YANZHEN_OA_AES_KEY": secret},
		"YANZHEN_MP_AES_KEY":      {"YANZHEN_MP_AES_KEY": strings.Repeat("!", 43)},
		"YANZHEN_WECHAT_API_BASE": {"YANZHEN_WECHAT_API_BASE": "ftp://x"},
		"YANZHEN_TZ":              {"YANZHEN_TZ": "Mars/Olympus"},
		"YANZHEN_PUBLIC_URL":      {"YANZHEN_PUBLIC_URL": "yz.example.gov.cn"},
		"YANZHEN_BROADCAST_RATE":  {"YANZHEN_BROADCAST_RATE": "fast"},
		"YANZHEN_HTTP_ADDR":       {"YANZHEN_HTTP_ADDR": "8080"},
		"YANZHEN_ADMIN_PASSWORD":  {"YANZHEN_ADMIN_USER": "admin"},
	}
	for want, vars := range cases {
		_, err := Load("", env(vars))
		if err == nil {
			t.Errorf("%s: accepted %v", want, vars)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || strings.Contains(msg, secret) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q must name the variable, in one line, without the value", want, msg)
		}
	}
}

func TestDatabaseDialect(t *testing.T) {
	for url, want := range map[string]string{
		"sqlite://yanzhen.db": "sqlite", "sqlite:///var/lib/y.db": "sqlite",
		"postgres://u@h/db": "postgres", "postgresql://u@h/db": "postgres", "mysql://u:p@h:3306/db": "mysql",
	} {
		if got, err := DatabaseDialect(url); err != nil || got != want {
			t.Errorf("%s: %q, %v", url, got, err)
		}
	}
	for _, bad := range []string{"", "yanzhen.db", "sqlite://", "mongodb://x"} {
		if _, err := DatabaseDialect(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
