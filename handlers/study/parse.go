package study

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/yanzhen/yanzhen/models"
)

// verdict is how a chat message reads while a question waits for its answer.
type verdict int

const (
	notAnswer verdict = iota // something else (a command, a question): pass it on, the question waits
	isAnswer
	needHint // meant as an answer but cannot be one ("E" with four options, "AB" to a 单选)
)

// maxBlankRunes: a longer text is not taken for a blank's answer (it is a question or a remark).
const maxBlankRunes = 40

// readAnswer reads normalized chat text as the answer to a question of type kind with options
// options: letters in the member's order for 单选/多选, 对 or 错 for 判断, the text for 填空. isCommand
// tells the bot's own commands, which are never a blank's answer.
func readAnswer(kind string, options int, text string, isCommand func(string) bool) (string, verdict) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", notAnswer
	}
	switch kind {
	case models.QuestionSingle, models.QuestionMulti:
		raw := text
		for _, p := range []string{"我选", "选择", "答案", "选", "答"} {
			if rest, ok := strings.CutPrefix(raw, p); ok {
				raw = strings.TrimLeft(rest, " :：是")
				break
			}
		}
		ls := letters(raw)
		if ls == "" {
			if judgeWord(text) != "" {
				return "", needHint // 对/错 to a choice question: he means to answer
			}
			return "", notAnswer
		}
		inRange := 0
		for _, l := range ls {
			if int(l-'A') < options {
				inRange++
			}
		}
		switch {
		case inRange == len(ls) && kind == models.QuestionSingle && len(ls) > 1:
			return ls, needHint
		case inRange == len(ls):
			return ls, isAnswer
		case len(ls) == 1 || inRange > 0:
			return ls, needHint
		}
		return "", notAnswer // a word like "ok" or "hi"
	case models.QuestionJudge:
		if w := judgeWord(text); w != "" {
			return w, isAnswer
		}
		if ls := letters(text); len(ls) == 1 {
			return "", needHint // a letter to a true/false question
		}
		return "", notAnswer
	}
	if isCommand(text) || strings.ContainsAny(text, "?？") || utf8.RuneCountInString(text) > maxBlankRunes {
		return "", notAnswer
	}
	return text, isAnswer
}

// letters is a choice answer as sorted, distinct upper-case letters ("d b" → "BD"); "" if anything
// else than letters and separators is in it.
func letters(s string) string {
	var set [26]bool
	n := 0
	for _, r := range width.Fold.String(s) {
		switch {
		case r >= 'a' && r <= 'z':
			set[r-'a'], n = true, n+1
		case r >= 'A' && r <= 'Z':
			set[r-'A'], n = true, n+1
		case unicode.IsSpace(r) || strings.ContainsRune(",，、;；.。/", r):
		default:
			return ""
		}
	}
	if n == 0 {
		return ""
	}
	out := make([]byte, 0, n)
	for i, ok := range set {
		if ok {
			out = append(out, byte('A'+i))
		}
	}
	return string(out)
}

// judgeWord reads a true/false answer as 对 or 错 ("" when it is neither).
func judgeWord(s string) string {
	switch strings.ToUpper(strings.TrimSpace(width.Fold.String(s))) {
	case "对", "对的", "正确", "是", "是的", "√", "✓", "✔", "T", "TRUE", "Y", "YES", "V":
		return "对"
	case "错", "错的", "错误", "不对", "否", "不是", "×", "✗", "✘", "X", "F", "FALSE", "N", "NO":
		return "错"
	}
	return ""
}

// commandWords are chat commands that must not be taken for a blank's answer, besides the keywords of
// the 帮助 lines.
var commandWords = map[string]bool{
	"帮助": true, "学习": true, "今日学习": true, "积分": true, "我的": true, "排行": true, "排行榜": true,
	"签到": true, "签退": true, "解绑": true, "问卷": true, "菜单": true, "help": true, "HELP": true,
}

// commandPrefixes start commands with arguments.
var commandPrefixes = []string{"绑定", "请假", "问 ", "问:", "问：", "签到 "}

// isCommandText reports whether text is a command: a known word, a known prefix, or the keyword of one
// of the help lines ("签到 — 值班签到" → 签到).
func isCommandText(text string, helpLines []string) bool {
	if commandWords[text] {
		return true
	}
	for _, p := range commandPrefixes {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	for _, l := range helpLines {
		kw, _, _ := strings.Cut(l, " ")
		if kw != "" && (text == kw || strings.HasPrefix(text, kw+" ")) {
			return true
		}
	}
	return false
}
