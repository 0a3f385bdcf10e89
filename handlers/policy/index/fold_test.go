package index

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain ascii 123", "plain ascii 123"},
		{"ABC Def", "abc def"},
		// Traditional → Simplified, character by character
		{"洪雅縣為全縣159個村(社區)分別配備1名“黨建專幹”", "洪雅县为全县159个村(社区)分别配备1名“党建专干”"},
		{"優中選優", "优中选优"},
		{"績效考核", "绩效考核"},
		{"什麼", "什么"}, // OpenCC's single-character choice would be 幺
		{"村裡", "村里"},
		{"後備幹部", "后备干部"},
		// full-width letters, digits and punctuation, the ideographic space
		{"５６学时", "56学时"},
		{"４．２万元", "4.2万元"},
		{"ＡＢＣ　ｘｙｚ！？", "abc xyz!?"},
		// Simplified text and Chinese punctuation stay as they are
		{"确保村书记每年培训达到56学时。", "确保村书记每年培训达到56学时。"},
		{"怎么、什么，干部“回炉”", "怎么、什么,干部“回炉”"}, // ， is a full-width comma
	} {
		got := Fold(c.in)
		if got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(c.in) {
			t.Errorf("Fold(%q) changed the number of characters", c.in)
		}
		if Fold(got) != got {
			t.Errorf("Fold is not idempotent on %q", c.in)
		}
	}
}

// The table is a function: folding twice is folding once, for every entry.
func TestT2STableIsIdempotent(t *testing.T) {
	m := t2sTable()
	if len(m) < 2500 {
		t.Fatalf("table has %d entries", len(m))
	}
	for from, to := range m {
		if _, again := m[to]; again {
			t.Errorf("%c → %c is folded again", from, to)
		}
	}
}

func TestTokens(t *testing.T) {
	texts := func(ts []Term, k Kind) []string {
		var out []string
		for _, t := range ts {
			if t.Kind == k {
				out = append(out, t.Text)
			}
		}
		return out
	}
	for _, c := range []struct {
		in               string
		uni, bi, num, nu []string
	}{
		{in: "党建专干", uni: []string{"党", "建", "专", "干"}, bi: []string{"党建", "建专", "专干"}},
		{in: "黨建專幹", uni: []string{"党", "建", "专", "干"}, bi: []string{"党建", "建专", "专干"}},
		// numbers and units
		{in: "达到56学时", uni: []string{"达", "到", "学", "时"}, bi: []string{"达到", "学时"}, num: []string{"56"}, nu: []string{"56学时"}},
		{in: "４．２万元", uni: []string{"万", "元"}, bi: []string{"万元"}, num: []string{"4.2", "42000"}, nu: []string{"4.2万元", "42000元"}},
		{in: "4200余元", uni: []string{"余", "元"}, bi: []string{"余元"}, num: []string{"4200"}, nu: []string{"4200元"}},
		{in: "30000元/年", uni: []string{"元", "年"}, num: []string{"30000"}, nu: []string{"30000元/年"}},
		{in: "1,000元", uni: []string{"元"}, num: []string{"1000"}, nu: []string{"1000元"}},
		{in: "08月", uni: []string{"月"}, num: []string{"8"}, nu: []string{"8月"}},
		{in: "60%", num: []string{"60"}, nu: []string{"60%"}},
		{in: "2017-11-28", num: []string{"2017", "11", "28"}},
		// Chinese numerals before a unit
		{in: "扣到六分", uni: []string{"扣", "到", "六", "分"}, bi: []string{"扣到", "到六", "六分"}, nu: []string{"6分"}},
		{in: "十二分", uni: []string{"十", "二", "分"}, bi: []string{"十二", "二分"}, nu: []string{"12分"}},
		{in: "一年一名", uni: []string{"一", "年", "一", "名"}, bi: []string{"一年", "年一", "一名"}},
		{in: "一百零五人", uni: []string{"一", "百", "零", "五", "人"}, bi: []string{"一百", "百零", "零五", "五人"}, nu: []string{"105人"}},
		// letters; punctuation splits runs
		{in: "PPT课件", uni: []string{"课", "件"}, bi: []string{"课件"}},
		{in: "村、社区", uni: []string{"村", "社", "区"}, bi: []string{"社区"}},
	} {
		ts := Tokens(Fold(c.in))
		for _, k := range []struct {
			kind Kind
			want []string
		}{{Uni, c.uni}, {Bi, c.bi}, {Num, c.num}, {NumUnit, c.nu}} {
			if got := texts(ts, k.kind); !slices.Equal(got, k.want) {
				t.Errorf("Tokens(%q) kind %d = %q, want %q", c.in, k.kind, got, k.want)
			}
		}
	}
	if got := texts(Tokens(Fold("PPT课件")), Word); !slices.Equal(got, []string{"ppt"}) {
		t.Errorf("words: %q", got)
	}
}

func TestQueryTermsDropQuestionWords(t *testing.T) {
	var got []string
	for _, t := range QueryTerms("党建专干的绩效一年预算多少钱？") {
		if t.Kind != Uni {
			got = append(got, t.Text)
		}
	}
	want := []string{"党建", "建专", "专干", "绩效", "效一", "一年", "年预", "预算"}
	if !slices.Equal(got, want) {
		t.Fatalf("QueryTerms = %q, want %q", got, want)
	}
	if ts := QueryTerms("怎么样？多少？"); len(ts) != 0 {
		t.Fatalf("question words only: %v", ts)
	}
	if n := len(QueryTerms(strings.Repeat("党建工作规范化建设", 30))); n > 64 {
		t.Fatalf("%d terms", n)
	}
}
