package requests

import (
	"strings"
	"testing"
	"time"

	"github.com/yanzhen/yanzhen/bot"
)

// The clock of the parser tests: Friday 2026-11-20, 09:30 in Asia/Shanghai.
var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	testNow     = time.Date(2026, 11, 20, 9, 30, 0, 0, shanghai)
	testToday   = todayOf(testNow, shanghai)
)

func TestParseLeave(t *testing.T) {
	for _, tc := range []struct {
		in, from, to, reason string
		half                 bool
	}{
		{"明天", "2026-11-21", "2026-11-21", "", false},
		{"明天 到县里开会", "2026-11-21", "2026-11-21", "到县里开会", false},
		{"明天到县里开会", "2026-11-21", "2026-11-21", "到县里开会", false}, // glued: 到 is no range without a second date
		{"后天 家里有事", "2026-11-22", "2026-11-22", "家里有事", false},
		{"今天下午 去医院", "2026-11-20", "2026-11-20", "去医院", true},
		{"大后天", "2026-11-23", "2026-11-23", "", false},
		{"昨天 生病了", "2026-11-19", "2026-11-19", "生病了", false}, // after the fact, within a week
		{"下周一 到县里开会", "2026-11-23", "2026-11-23", "到县里开会", false},
		{"周三 看病", "2026-11-25", "2026-11-25", "看病", false},
		{"星期五", "2026-11-20", "2026-11-20", "", false}, // today is a Friday
		{"下周三到下周五 培训", "2026-11-25", "2026-11-27", "培训", false},
		{"11月25日", "2026-11-25", "2026-11-25", "", false},
		{"11月25号 农忙", "2026-11-25", "2026-11-25", "农忙", false},
		{"11.25 农忙", "2026-11-25", "2026-11-25", "农忙", false},
		{"11/25", "2026-11-25", "2026-11-25", "", false},
		{"2026-11-25 农忙", "2026-11-25", "2026-11-25", "农忙", false},
		{"2026年12月1日 体检", "2026-12-01", "2026-12-01", "体检", false},
		{"十一月二十五日 农忙", "2026-11-25", "2026-11-25", "农忙", false},
		{"11月25日-11月27日 农忙", "2026-11-25", "2026-11-27", "农忙", false},
		{"11月25日 - 11月27日，农忙", "2026-11-25", "2026-11-27", "农忙", false},
		{"11月25日到27日 农忙", "2026-11-25", "2026-11-27", "农忙", false},
		{"11.25-11.27", "2026-11-25", "2026-11-27", "", false},
		{"11月25日~27日", "2026-11-25", "2026-11-27", "", false},
		{"25号到27号 走亲戚", "2026-11-25", "2026-11-27", "走亲戚", false},
		{"30号到2号", "2026-11-30", "2026-12-02", "", false},
		{"12月30日到1月2日 回老家", "2026-12-30", "2027-01-02", "回老家", false},
		{"明天起3天 走亲戚", "2026-11-21", "2026-11-23", "走亲戚", false},
		{"从明天开始请三天假 回老家", "2026-11-21", "2026-11-23", "回老家", false},
		{"11月25日起两天", "2026-11-25", "2026-11-26", "", false},
		{"两天 家里有事", "2026-11-20", "2026-11-21", "家里有事", false},
		{"3天", "2026-11-20", "2026-11-22", "", false},
		{"上午 办事", "2026-11-20", "2026-11-20", "办事", true},
		{"家里有事 明天", "2026-11-21", "2026-11-21", "家里有事", false}, // the reason first
		{"1月5日 回老家", "2027-01-05", "2027-01-05", "回老家", false}, // next January, not last
		{"因为农忙，11月25日-11月27日", "2026-11-25", "2026-11-27", "农忙", false},
	} {
		// The chat normalizes what it reads (full width, Traditional); the parser sees that.
		got, err := ParseLeave(bot.Normalize(tc.in), testToday)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.From != tc.from || got.To != tc.to || got.Reason != tc.reason || got.HalfDay != tc.half {
			t.Errorf("%q = %+v, want %s..%s %q half=%v", tc.in, got, tc.from, tc.to, tc.reason, tc.half)
		}
	}
}

func TestParseLeaveFullWidthAndTraditional(t *testing.T) {
	for _, tc := range []struct{ in, from, to, reason string }{
		{"１１月２５日－１１月２７日　農忙", "2026-11-25", "2026-11-27", "農忙"},
		{"從明天開始請兩天假 回老家", "2026-11-21", "2026-11-22", "回老家"},
		{"下週三 開會", "2026-11-25", "2026-11-25", "开会"},
		{"後天", "2026-11-22", "2026-11-22", ""},
	} {
		got, err := ParseLeave(bot.Normalize(tc.in), testToday)
		if err != nil || got.From != tc.from || got.To != tc.to || got.Reason != tc.reason {
			t.Errorf("%q = %+v %v, want %s..%s %q", tc.in, got, err, tc.from, tc.to, tc.reason)
		}
	}
}

func TestParseLeaveRefusals(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"家里有事", TextLeaveHow},
		{"", TextLeaveHow},
		{"过几天", TextLeaveHow},
		{"11月31日", "没有11月31日这一天"},
		{"13月5日", "没有13月5日这一天"},
		{"2026-02-30", "没有2026年2月30日这一天"},
		{"31号", "11月没有31号"},
		{"11月27日-11月25日", "结束日期（11月25日）早于开始日期（11月27日）"},
		{"11月25日-12月31日", "一次最多请 30 天假，这次是 37 天"},
		{"明天起40天", "一次最多请 30 天假"},
		{"11月1日 农忙", "只能补请 7 天以内的假"},
		{"3月5日", "只能申请 90 天以内的假"}, // next March: too far ahead
		{"2027-06-01", "只能申请 90 天以内的假"},
	} {
		_, err := ParseLeave(bot.Normalize(tc.in), testToday)
		pe, ok := err.(*ParseError)
		if !ok || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("%q: %v, want a refusal with %q", tc.in, err, tc.want)
		}
	}
}

func TestParseMakeup(t *testing.T) {
	for _, tc := range []struct {
		in, day, kind, at, reason string
	}{
		{"昨天 签到 8:20 忘带手机", "2026-11-19", "in", "08:20", "忘带手机"},
		{"11月20日 签退", "2026-11-20", "out", "", ""},
		{"签到 8点05 手机没电", "2026-11-20", "in", "08:05", "手机没电"},
		{"前天 下班 下午5点半 到镇里开会", "2026-11-18", "out", "17:30", "到镇里开会"},
		{"11月19日签退17:10", "2026-11-19", "out", "17:10", ""},
		{"本周三 签到", "2026-11-18", "in", "", ""}, // 周三 alone is next week's: see the refusals below
	} {
		got, err := ParseMakeup(bot.Normalize(tc.in), testNow)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		at := ""
		if got.At != nil {
			at = got.At.Format("15:04")
			if got.At.Format(dayLayout) != tc.day {
				t.Errorf("%q: at %v, not on %s", tc.in, got.At, tc.day)
			}
		}
		if got.Day != tc.day || got.Kind != tc.kind || at != tc.at || got.Reason != tc.reason {
			t.Errorf("%q = %+v (at %s), want %s %s %s %q", tc.in, got, at, tc.day, tc.kind, tc.at, tc.reason)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"昨天 8:20", "补卡要说明补签到还是签退"},
		{"签到 10:00", "还没到"},
		{"明天 签到", "还没到"},
		{"周三 签到", "还没到"}, // next Wednesday
		{"11月1日 签到", "只能补 7 天以内的卡"},
		{"昨天 签到 25:00", "时间 25:00 不对"},
		{"11月31日 签到", "没有11月31日这一天"},
	} {
		_, err := ParseMakeup(bot.Normalize(tc.in), testNow)
		pe, ok := err.(*ParseError)
		if !ok || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("%q: %v, want a refusal with %q", tc.in, err, tc.want)
		}
	}
}

func TestLabels(t *testing.T) {
	if got := RangeLabel("2026-11-25", "2026-11-27"); got != "11月25日-11月27日" {
		t.Errorf("RangeLabel = %q", got)
	}
	if got := compactRange("2026-11-25", "2026-11-27"); got != "11月25日-27日" {
		t.Errorf("compactRange = %q", got)
	}
	if got := shortRange("2026-11-25", "2026-11-27"); got != "11/25-11/27" {
		t.Errorf("shortRange = %q", got)
	}
	if got := overlap("2026-12-30", "2027-01-02", "2027-01-01", "2027-12-31"); got != 2 {
		t.Errorf("overlap = %d", got)
	}
}
