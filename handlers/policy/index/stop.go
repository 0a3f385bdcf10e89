package index

import "strings"

// Question words and particles carry no topic: a passage that happens to say 多少 or 怎么 is no better
// an answer to "…是多少". They are left out of queries (documents keep them).
var (
	stopUni = setOf(strings.Split("的了是在和与及或吗呢吧啊么什怎哪谁多少几有要会能对给把被就都也还这那我你他她们个一不请问样该如何呀嘛", ""))
	stopBi  = setOf([]string{"多少", "什么", "怎么", "么样", "么办", "怎样", "如何", "哪些", "哪个", "哪里", "是否", "能否",
		"请问", "是多", "是什", "为什", "有没", "没有", "一下", "可以", "需要", "么时", "是不", "不是", "有哪", "有什", "多大",
		"多长", "几个"})
)

func setOf(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// glue are function characters: a question's bigram with one of them is mostly two words' seam
// (培训的, 多少钱 → "的绩", "少钱"), and such seams, found nowhere, would count against every passage.
var glue = setOf(strings.Split("的了吗呢吧啊么呀嘛多少几个什怎哪谁是我你他她", ""))

func stopTerm(t Term) bool {
	switch t.Kind {
	case Uni:
		return stopUni[t.Text]
	case Bi:
		if stopBi[t.Text] {
			return true
		}
		for _, r := range t.Text {
			if glue[string(r)] {
				return true
			}
		}
	}
	return false
}
