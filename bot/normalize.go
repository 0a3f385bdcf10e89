package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// t2s folds the Traditional forms of the characters that make up the chat vocabulary, so 簽到 and
// 幫助 route like 签到 and 帮助. Full-text folding for policy questions lives with the policy index.
var t2s = strings.NewReplacer(
	"幫", "帮", "綁", "绑", "學", "学", "習", "习", "簽", "签", "請", "请", "問", "问",
	"積", "积", "開", "开", "會", "会", "聯", "联", "繫", "系", "單", "单", "題", "题",
	"選", "选", "審", "审", "批", "批", "課", "课", "黨", "党", "專", "专", "幹", "干",
	"記", "记", "員", "员", "說", "说", "東", "东", "這", "这", "裡", "里", "麼", "么",
	"為", "为", "誰", "谁", "時", "时", "間", "间", "號", "号", "碼", "码", "設", "设",
	"後", "后", "鐘", "钟", "點", "点", "區", "区", "縣", "县", "鎮", "镇", "鄉", "乡",
	"務", "务", "體", "体", "測", "测", "試", "试", "練", "练", "數", "数", "據", "据",
	"績", "绩", "勤", "勤", "訊", "讯", "見", "见", "們", "们", "個", "个", "錯", "错",
	"對", "对", "今", "今", "日", "日",
)

// Normalize prepares chat text for matching: full-width letters, digits and punctuation become
// half-width, Traditional command characters become Simplified, runs of white space (including the
// ideographic space) become one space, and the ends are trimmed.
func Normalize(s string) string {
	if isPlainASCII(s) {
		return strings.TrimSpace(s)
	}
	s = width.Fold.String(s)
	s = t2s.Replace(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' {
			return false
		}
	}
	return true
}
