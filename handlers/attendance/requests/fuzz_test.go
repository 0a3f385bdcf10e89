package requests

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/bot"
)

// FuzzParseLeave feeds the leave parser any chat text (normalized as the chat does) on any day near
// today: no panic; a refusal is a *ParseError with a message for people; an accepted leave starts no
// earlier than MaxPastDays back and no later than MaxAheadDays ahead, ends on or after its start,
// covers at most MaxLeaveDays, and its reason is short, valid UTF-8.
func FuzzParseLeave(f *testing.F) {
	for _, s := range []string{
		"明天", "明天 到县里开会", "今天下午 去医院", "下周三到下周五 培训", "11月25日-11月27日 农忙", "11.25-11.27",
		"25号到27号 走亲戚", "30号到2号", "12月30日到1月2日 回老家", "明天起3天 走亲戚", "从明天开始请三天假 回老家",
		"两天 家里有事", "3天", "上午 办事", "1月5日 回老家", "2026年12月1日 体检", "十一月二十五日 农忙",
		"11月31日", "2月30日到3月1日", "明天起0天", "明天起九十九天", "0月0日", "99999999999号", "周八",
		"１１月２５日－１１月２７日　農忙", "请假", "", "到到到", "-", "1.1.1.1", "2026-13-45",
	} {
		f.Add(s, int16(0))
	}
	f.Add("12月31日", int16(-325))
	f.Add("2月29日", int16(100))
	base := civil(2026, 11, 20)
	f.Fuzz(func(t *testing.T, s string, shift int16) {
		today := base.AddDate(0, 0, int(shift))
		in := bot.Normalize(s)
		l, err := ParseLeave(in, today)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" || !utf8.ValidString(pe.Msg) {
				t.Fatalf("%q on %s: %v", in, dayString(today), err)
			}
			return
		}
		from, to := parseDay(l.From), parseDay(l.To)
		if dayString(from) != l.From || dayString(to) != l.To {
			t.Fatalf("%q on %s: days %q %q", in, dayString(today), l.From, l.To)
		}
		switch {
		case to.Before(from), l.Days() > MaxLeaveDays, l.Days() < 1,
			from.Before(today.AddDate(0, 0, -MaxPastDays)), from.After(today.AddDate(0, 0, MaxAheadDays)):
			t.Fatalf("%q on %s: accepted %+v", in, dayString(today), l)
		}
		if !utf8.ValidString(l.Reason) || utf8.RuneCountInString(l.Reason) > maxReason {
			t.Fatalf("%q on %s: reason %q", in, dayString(today), l.Reason)
		}
	})
}

// FuzzParseMakeup: the same for make-up requests; an accepted one names 签到 or 签退, a day within
// the last MaxPastDays and not after today, and a time (if any) on that day, not in the future.
func FuzzParseMakeup(f *testing.F) {
	for _, s := range []string{
		"昨天 签到 8:20 忘带手机", "11月20日 签退", "签到 8点05 手机没电", "前天 下班 下午5点半 到镇里开会",
		"11月19日签退17:10", "本周三 签到", "昨天 8:20", "签到 10:00", "明天 签到", "周三 签到", "11月1日 签到",
		"昨天 签到 25:00", "11月31日 签到", "签到 晚上11点59", "签到 下午12点", "签到 99:99", "签到签退", "",
	} {
		f.Add(s, int16(0), int16(570))
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Skip(err)
	}
	f.Fuzz(func(t *testing.T, s string, shift, minute int16) {
		now := time.Date(2026, 11, 20, 0, 0, 0, 0, loc).AddDate(0, 0, int(shift)).Add(time.Duration(minute) * time.Minute)
		today := todayOf(now, loc)
		in := bot.Normalize(s)
		m, err := ParseMakeup(in, now)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" || !utf8.ValidString(pe.Msg) {
				t.Fatalf("%q at %v: %v", in, now, err)
			}
			return
		}
		day := parseDay(m.Day)
		switch {
		case m.Kind != "in" && m.Kind != "out", dayString(day) != m.Day,
			day.After(today), day.Before(today.AddDate(0, 0, -MaxPastDays)):
			t.Fatalf("%q at %v: accepted %+v", in, now, m)
		}
		if m.At != nil && (m.At.After(now) || m.At.Format(dayLayout) != m.Day) {
			t.Fatalf("%q at %v: time %v", in, now, m.At)
		}
		if !utf8.ValidString(m.Reason) || utf8.RuneCountInString(m.Reason) > maxReason {
			t.Fatalf("%q at %v: reason %q", in, now, m.Reason)
		}
	})
}
