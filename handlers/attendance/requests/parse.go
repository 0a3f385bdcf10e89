package requests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of what a member may ask for in chat.
const (
	MaxPastDays  = 7  // a leave or make-up at most this many days back (leave taken before it was asked)
	MaxAheadDays = 90 // a leave starting at most this many days ahead
	MaxLeaveDays = 30 // one request covers at most this many days
	maxReason    = 100
)

// Texts of the parser's refusals and hints.
const (
	TextLeaveHow  = "没看懂请假日期，可以这样发：请假 11月25日-11月27日 农忙"
	TextMakeupHow = "没看懂补卡内容，可以这样发：补卡 昨天 签到 8:20 忘带手机"
	textMakeupWho = "补卡要说明补签到还是签退，例如：补卡 昨天 签到 8:20 忘带手机"
)

// ParseError is input the member can fix; Msg tells him how, in Chinese.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func refuse(format string, args ...any) error { return &ParseError{Msg: fmt.Sprintf(format, args...)} }

// LeaveSpec is a leave request as the member wrote it.
type LeaveSpec struct {
	From, To string // "YYYY-MM-DD", inclusive
	Reason   string
	HalfDay  bool // 上午 / 下午 / 半天 was said: recorded as a whole day
}

// Days is how many days the leave covers.
func (l LeaveSpec) Days() int { return daysBetween(l.From, l.To) + 1 }

// MakeupSpec is a make-up (补卡) request as the member wrote it.
type MakeupSpec struct {
	Day    string // "YYYY-MM-DD"
	Kind   string // models.CheckKindIn / CheckKindOut
	At     *time.Time
	Reason string
}

const dayLayout = "2006-01-02"

// civil is a calendar date (midnight UTC, so that day arithmetic is exact).
func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// todayOf is the calendar date of now in loc.
func todayOf(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return civil(y, m, d)
}

func dayString(t time.Time) string { return t.Format(dayLayout) }

func parseDay(s string) time.Time {
	t, _ := time.Parse(dayLayout, s)
	return t
}

func daysBetween(a, b string) int { return int(parseDay(b).Sub(parseDay(a)).Hours() / 24) }

// validDate reports whether y-m-d exists.
func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := civil(y, time.Month(m), d)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// The date expressions, tried at each position of the text (anchored there).
const num = `(\d{1,2}|[一二三四五六七八九十]{1,3})`

var (
	reYMD     = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?`)
	reMD      = regexp.MustCompile(`^` + num + `\s*月\s*` + num + `\s*[日号]?`)
	reMDs     = regexp.MustCompile(`^(\d{1,2})[./](\d{1,2})`)
	reD       = regexp.MustCompile(`^` + num + `\s*[日号]`)
	reRel     = regexp.MustCompile(`^(大后天|后天|明天|明日|今天|今日|昨天|昨日|前天)`)
	reWeek    = regexp.MustCompile(`^(下下个|下下|下个|下|本|这个|这|上个|上)?\s*(?:周|週|星期|礼拜|禮拜)([一二三四五六日天1-7])`)
	reSep     = regexp.MustCompile(`^\s*(?:-|~|到|至|—|–|－)\s*`)
	reBareDay = regexp.MustCompile(`^` + num + `\s*[日号]?`)
	reDur     = regexp.MustCompile(`^\s*(?:起|开始)?\s*(?:请假?|休)?\s*(\d{1,2}|[一二两兩三四五六七八九十]{1,3})\s*天假?`)
	reDurOnly = regexp.MustCompile(`(?:请假?|休)?(\d{1,2}|[一二两兩三四五六七八九十]{1,3})\s*天假?`)
	reHalf    = regexp.MustCompile(`上午|下午|半天`)
	reTime    = regexp.MustCompile(`(上午|早上|早晨|下午|晚上)?\s*(\d{1,2})\s*(?:[:点])\s*(\d{1,2}|半)?\s*分?`)
	reKindIn  = regexp.MustCompile(`签到|上班|到岗`)
	reKindOut = regexp.MustCompile(`签退|下班|离岗`)
)

var rel = map[string]int{"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2}

// cnNum reads 1–99 in digits or Chinese numerals (十一, 二十五, 两); 0 when it is neither.
func cnNum(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	digit := map[rune]int{'一': 1, '二': 2, '两': 2, '兩': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	rs := []rune(s)
	switch {
	case len(rs) == 1 && rs[0] == '十':
		return 10
	case len(rs) == 1:
		return digit[rs[0]]
	case len(rs) == 2 && rs[0] == '十':
		return 10 + digit[rs[1]]
	case len(rs) == 2 && rs[1] == '十':
		return digit[rs[0]] * 10
	case len(rs) == 3 && rs[1] == '十':
		return digit[rs[0]]*10 + digit[rs[2]]
	}
	return 0
}

// term is one date expression found in the text.
type term struct {
	at, n   int // byte offset and length in the text
	y, m, d int // as written: y = 0 no year, m = 0 no month (a day of month)
	date    time.Time
	fixed   bool // date is known (relative words, weekdays, full dates)
}

// matchTerm tries the date expressions at the start of s.
func matchTerm(s string, today time.Time) (term, bool) {
	if m := reYMD.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		return term{n: len(m[0]), y: y, m: cnNum(m[2]), d: cnNum(m[3])}, true
	}
	if m := reMD.FindStringSubmatch(s); m != nil {
		return term{n: len(m[0]), m: cnNum(m[1]), d: cnNum(m[2])}, true
	}
	if m := reMDs.FindStringSubmatch(s); m != nil && !followedByDigit(s, len(m[0])) {
		return term{n: len(m[0]), m: cnNum(m[1]), d: cnNum(m[2])}, true
	}
	if m := reRel.FindStringSubmatch(s); m != nil {
		return term{n: len(m[0]), date: today.AddDate(0, 0, rel[m[1]]), fixed: true}, true
	}
	if m := reWeek.FindStringSubmatch(s); m != nil {
		return term{n: len(m[0]), date: weekday(today, m[1], m[2]), fixed: true}, true
	}
	if m := reD.FindStringSubmatch(s); m != nil {
		return term{n: len(m[0]), d: cnNum(m[1])}, true
	}
	return term{}, false
}

func followedByDigit(s string, i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }

// weekday resolves 周三 (the next Wednesday, today included), 本周三 / 这周三 (this week's, Monday
// first), 下周三 (next week's), 下下周三 and 上周三.
func weekday(today time.Time, prefix, day string) time.Time {
	want := strings.Index("一二三四五六日", day) / len("一")
	switch day {
	case "天", "7":
		want = 6
	case "1", "2", "3", "4", "5", "6":
		want = int(day[0] - '1')
	}
	cur := (int(today.Weekday()) + 6) % 7 // Monday = 0
	monday := today.AddDate(0, 0, -cur)
	switch prefix {
	case "":
		return today.AddDate(0, 0, (want-cur+7)%7)
	case "本", "这", "这个":
		return monday.AddDate(0, 0, want)
	case "下", "下个":
		return monday.AddDate(0, 0, 7+want)
	case "下下", "下下个":
		return monday.AddDate(0, 0, 14+want)
	}
	return monday.AddDate(0, 0, -7+want) // 上, 上个
}

// resolve turns a start term into a date: a month-day in the year that puts it nearest today, a day
// of month in this month (next month when that is more than two weeks gone).
func (t term) resolve(today time.Time) (time.Time, error) {
	switch {
	case t.fixed:
		return t.date, nil
	case t.y > 0:
		if !validDate(t.y, t.m, t.d) {
			return time.Time{}, refuse("没有%d年%d月%d日这一天，请检查日期。", t.y, t.m, t.d)
		}
		return civil(t.y, time.Month(t.m), t.d), nil
	case t.m > 0:
		y := today.Year()
		if validDate(y, t.m, t.d) {
			c := civil(y, time.Month(t.m), t.d)
			if c.Before(today.AddDate(0, 0, -180)) {
				y++
			} else if c.After(today.AddDate(0, 0, 180)) {
				y--
			}
		}
		if !validDate(y, t.m, t.d) {
			return time.Time{}, refuse("没有%d月%d日这一天，请检查日期。", t.m, t.d)
		}
		return civil(y, time.Month(t.m), t.d), nil
	}
	y, m := today.Year(), int(today.Month())
	if t.d < today.Day()-15 {
		if m++; m > 12 {
			y, m = y+1, 1
		}
	}
	if !validDate(y, m, t.d) {
		return time.Time{}, refuse("%d月没有%d号，请检查日期。", m, t.d)
	}
	return civil(y, time.Month(m), t.d), nil
}

// resolveEnd turns the end of a range into a date, reading what it leaves out from the start
// (11月25日到27日; 12月30日到1月2日 ends next year; 30号到2号 next month).
func (t term) resolveEnd(start time.Time) (time.Time, error) {
	switch {
	case t.fixed:
		return t.date, nil
	case t.y > 0:
		return t.resolve(start)
	case t.m > 0:
		y := start.Year()
		if t.m < int(start.Month()) && int(start.Month())-t.m >= 6 {
			y++
		}
		if !validDate(y, t.m, t.d) {
			return time.Time{}, refuse("没有%d月%d日这一天，请检查日期。", t.m, t.d)
		}
		return civil(y, time.Month(t.m), t.d), nil
	}
	y, m := start.Year(), int(start.Month())
	if t.d < start.Day() && start.Day() >= 20 && t.d <= 10 {
		if m++; m > 12 {
			y, m = y+1, 1
		}
	}
	if !validDate(y, m, t.d) {
		return time.Time{}, refuse("%d月没有%d号，请检查日期。", m, t.d)
	}
	return civil(y, time.Month(m), t.d), nil
}

// text is the member's words with the parts already read blanked out (so the rest is the reason).
type text struct{ s string }

func (x *text) blank(at, n int) { x.s = x.s[:at] + strings.Repeat(" ", n) + x.s[at+n:] }

// findTerm is the first date expression in the text.
func (x *text) findTerm(today time.Time) (term, bool) {
	for i := range x.s {
		if t, ok := matchTerm(x.s[i:], today); ok {
			t.at = i
			return t, true
		}
	}
	return term{}, false
}

// reason is what is left of the text: the member's reason, tidied.
func (x *text) reason() string {
	r := strings.Join(strings.Fields(x.s), " ")
	for {
		before := r
		r = strings.Trim(r, " ,，。.、;；:：!！~-—")
		for _, p := range []string{"从", "從", "因为", "因為", "因", "原因", "事由", "理由", "请假"} {
			r = strings.TrimPrefix(r, p)
		}
		if r == before {
			break
		}
	}
	if rs := []rune(r); len(rs) > maxReason {
		r = string(rs[:maxReason])
	}
	return r
}

// ParseLeave reads a leave request: one day (明天, 周三, 下周一, 11月25日, 11.25, 11/25, 2026-11-25,
// 25号), a range (11月25日-11月27日, 11月25日到27日, 25号到27号), a start and a length (明天起3天), or
// a length from today (两天, 3天); anything left is the reason. 上午/下午/半天 is recorded as the whole
// day. today is the member's local date (todayOf).
func ParseLeave(s string, today time.Time) (LeaveSpec, error) {
	x := &text{s: s}
	var out LeaveSpec
	if loc := reHalf.FindStringIndex(x.s); loc != nil {
		out.HalfDay = true
		x.blank(loc[0], loc[1]-loc[0])
	}
	var from, to time.Time
	if t, ok := x.findTerm(today); ok {
		var err error
		if from, err = t.resolve(today); err != nil {
			return out, err
		}
		to = from
		end := t.at + t.n
		rest := x.s[end:]
		if sep := reSep.FindString(rest); sep != "" {
			after := rest[len(sep):]
			t2, ok := matchTerm(after, today)
			if !ok {
				if m := reBareDay.FindStringSubmatch(after); m != nil && !followedByDigit(after, len(m[0])) && !strings.HasPrefix(after[len(m[0]):], "月") {
					t2, ok = term{n: len(m[0]), d: cnNum(m[1])}, true
				}
			}
			if ok {
				if to, err = t2.resolveEnd(from); err != nil {
					return out, err
				}
				end += len(sep) + t2.n
			}
		} else if m := reDur.FindStringSubmatch(rest); m != nil {
			n := cnNum(m[1])
			if n < 1 {
				return out, &ParseError{Msg: TextLeaveHow}
			}
			to = from.AddDate(0, 0, n-1)
			end += len(m[0])
		}
		x.blank(t.at, end-t.at)
	} else if loc := reDurOnly.FindStringSubmatchIndex(x.s); loc != nil {
		n := cnNum(x.s[loc[2]:loc[3]])
		if n < 1 {
			return out, &ParseError{Msg: TextLeaveHow}
		}
		from, to = today, today.AddDate(0, 0, n-1)
		x.blank(loc[0], loc[1]-loc[0])
	} else if out.HalfDay {
		from, to = today, today
	} else {
		return out, &ParseError{Msg: TextLeaveHow}
	}
	out.From, out.To, out.Reason = dayString(from), dayString(to), x.reason()
	return out, checkLeave(out, today)
}

// checkLeave refuses what no secretary should be asked: an end before the start, too long, too far
// back or ahead.
func checkLeave(l LeaveSpec, today time.Time) error {
	from, to := parseDay(l.From), parseDay(l.To)
	switch {
	case to.Before(from):
		return refuse("结束日期（%s）早于开始日期（%s），请检查一下。", DayLabel(l.To), DayLabel(l.From))
	case l.Days() > MaxLeaveDays:
		return refuse("一次最多请 %d 天假，这次是 %d 天。请分开申请，或直接联系书记。", MaxLeaveDays, l.Days())
	case from.Before(today.AddDate(0, 0, -MaxPastDays)):
		return refuse("只能补请 %d 天以内的假，%s已经过去太久了。", MaxPastDays, DayLabel(l.From))
	case from.After(today.AddDate(0, 0, MaxAheadDays)):
		return refuse("只能申请 %d 天以内的假，%s太远了。", MaxAheadDays, DayLabel(l.From))
	}
	return nil
}

// ParseMakeup reads a make-up request: the day (default today), 签到 or 签退, the time it should have
// been (8:20, 8点20, 下午5点半; optional) and the reason. now is the current time in the members' time
// zone.
func ParseMakeup(s string, now time.Time) (MakeupSpec, error) {
	today := todayOf(now, now.Location())
	x := &text{s: s}
	var out MakeupSpec
	var hour, minute = -1, 0
	if m := reTime.FindStringSubmatchIndex(x.s); m != nil {
		hour, _ = strconv.Atoi(x.s[m[4]:m[5]])
		if m[6] >= 0 {
			if mm := x.s[m[6]:m[7]]; mm == "半" {
				minute = 30
			} else {
				minute, _ = strconv.Atoi(mm)
			}
		}
		if m[2] >= 0 {
			if p := x.s[m[2]:m[3]]; (p == "下午" || p == "晚上") && hour < 12 {
				hour += 12
			}
		}
		if hour > 23 || minute > 59 {
			return out, refuse("时间 %s 不对，请写成 8:20 这样。", strings.TrimSpace(x.s[m[0]:m[1]]))
		}
		x.blank(m[0], m[1]-m[0])
	}
	switch {
	case reKindIn.MatchString(x.s):
		out.Kind = "in"
		loc := reKindIn.FindStringIndex(x.s)
		x.blank(loc[0], loc[1]-loc[0])
	case reKindOut.MatchString(x.s):
		out.Kind = "out"
		loc := reKindOut.FindStringIndex(x.s)
		x.blank(loc[0], loc[1]-loc[0])
	}
	day := today
	if t, ok := x.findTerm(today); ok {
		var err error
		if day, err = t.resolve(today); err != nil {
			return out, err
		}
		x.blank(t.at, t.n)
	}
	if out.Kind == "" {
		return out, &ParseError{Msg: textMakeupWho}
	}
	out.Day, out.Reason = dayString(day), x.reason()
	switch {
	case day.After(today):
		return out, refuse("%s还没到，不能补卡。", DayLabel(out.Day))
	case day.Before(today.AddDate(0, 0, -MaxPastDays)):
		return out, refuse("只能补 %d 天以内的卡，%s已经过去太久了。", MaxPastDays, DayLabel(out.Day))
	}
	if hour >= 0 {
		at := time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, now.Location())
		if at.After(now) {
			return out, refuse("%s %02d:%02d 还没到，不能补卡。", DayLabel(out.Day), hour, minute)
		}
		out.At = &at
	}
	return out, nil
}

// DayLabel is a day as members read it: 11月25日.
func DayLabel(day string) string {
	t := parseDay(day)
	return fmt.Sprintf("%d月%d日", t.Month(), t.Day())
}

// RangeLabel is a leave's days: 11月25日, 11月25日-11月27日.
func RangeLabel(from, to string) string {
	if to == "" || from == to {
		return DayLabel(from)
	}
	return DayLabel(from) + "-" + DayLabel(to)
}

// shortRange is a range in a list line: 11/25, 11/25-11/27.
func shortRange(from, to string) string {
	f := parseDay(from)
	s := fmt.Sprintf("%d/%d", f.Month(), f.Day())
	if to != "" && to != from {
		t := parseDay(to)
		s += fmt.Sprintf("-%d/%d", t.Month(), t.Day())
	}
	return s
}

// compactRange is a range in a secretary's notice: 11月25日-27日 within a month.
func compactRange(from, to string) string {
	if to == "" || from == to {
		return DayLabel(from)
	}
	f, t := parseDay(from), parseDay(to)
	if f.Month() == t.Month() && f.Year() == t.Year() {
		return fmt.Sprintf("%d月%d日-%d日", f.Month(), f.Day(), t.Day())
	}
	return RangeLabel(from, to)
}
