package policy

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
)

// KB is one consistent state of the knowledge base, indexed: every question is answered from one KB,
// which is never changed (a newer state is a new KB).
type KB struct {
	Epoch string // which database's knowledge base (see models.PolicyIndexState)
	Gen   int64  // and which state of it

	Docs     []Doc
	Passages []Passage
	FAQs     []FAQ

	idx      *index.Index
	folded   []string         // Passages[i].Text folded
	faqTerms [][][]index.Term // per FAQ, per phrasing (question first): its meaningful terms
	th       Thresholds
}

// Doc is a document as answers name it.
type Doc struct {
	ID     uint
	Name   string
	Title  string
	Source string
	Date   string
}

// Passage is a passage of Docs[Doc].
type Passage struct {
	ID   uint
	Doc  int
	Seq  int
	Text string
}

// FAQ is an active question-answer pair.
type FAQ struct {
	ID           uint
	Question     string
	Alternatives string // one phrasing a line
	Answer       string
	Source       string
}

// Thresholds decide between the FAQ, a passage and a person.
type Thresholds struct {
	// FAQ: an FAQ whose phrasing matches the question at least this well (weighted Dice of their terms,
	// 0–1) answers, whatever the passages say.
	FAQ float64
	// Passage: the best passage answers when it holds at least this share of the question's weight
	// (index.Hit.Coverage); below it the question goes to a person.
	Passage float64
}

// DefaultThresholds were set on the dev questions and on off-topic and unanswerable questions (see
// the tests): the passages that answer the dev and held-out questions cover 0.40–1 of them; 今天天气怎么样
// finds 0.33 in 一天天成长, one shared word, which the two-word rule in Answer turns away.
func DefaultThresholds() Thresholds { return Thresholds{FAQ: 0.6, Passage: 0.3} }

// NewKB indexes a state of the knowledge base. Passages whose Doc is out of range are ignored.
func NewKB(docs []Doc, passages []Passage, faqs []FAQ, p index.Params, th Thresholds) *KB {
	kb := &KB{Docs: docs, FAQs: faqs, th: th}
	ps := make([]index.Passage, 0, len(passages))
	for _, p := range passages {
		if p.Doc < 0 || p.Doc >= len(docs) {
			continue
		}
		kb.Passages = append(kb.Passages, p)
		f := index.Fold(p.Text)
		kb.folded = append(kb.folded, f)
		ps = append(ps, index.Passage{Group: p.Doc, Folded: f})
	}
	kb.idx = index.Build(ps, len(docs), p)
	kb.indexFAQs()
	return kb
}

func (kb *KB) indexFAQs() {
	kb.faqTerms = make([][][]index.Term, len(kb.FAQs))
	for i, f := range kb.FAQs {
		phrasings := []string{f.Question}
		for _, alt := range strings.Split(f.Alternatives, "\n") {
			if alt = strings.TrimSpace(alt); alt != "" {
				phrasings = append(phrasings, alt)
			}
		}
		for _, ph := range phrasings {
			kb.faqTerms[i] = append(kb.faqTerms[i], meaningful(index.QueryTerms(ph)))
		}
	}
}

// meaningful drops single characters: FAQ matching compares words, not characters.
func meaningful(ts []index.Term) []index.Term {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Kind != index.Uni {
			out = append(out, t)
		}
	}
	return out
}

// Index is the passages' full-text index.
func (kb *KB) Index() *index.Index { return kb.idx }

// Kinds of answer.
const (
	AnswerFAQ     = "faq"
	AnswerPassage = "passage"
	AnswerNone    = "none" // nothing fits: a person answers
)

// Answer is what the knowledge base says to a question.
type Answer struct {
	Kind       string
	Confidence float64 // of the FAQ match or the passage (see Thresholds)
	FAQ        *FAQ
	Passage    *Passage
	Doc        *Doc
	Quote      string   // the sentence(s) of the passage that answer
	SeeAlso    []string // titles of up to two other documents that matched
	Text       string   // the reply, at most MaxReply characters
	Hits       []index.Hit
}

// Reply texts and sizes.
const (
	// MaxReply fits a phone screen.
	MaxReply = 300
	// maxQuote leaves room in MaxReply for the source and the related titles.
	maxQuote = 150
	// TextNoAnswer is the reply when nothing fits; the question waits for a person.
	TextNoAnswer = "这个问题我还答不上来，已转给组织部的同志，答复后会在这里告诉你。"
	// searchDepth is how many passages a question looks at (the answer, related documents, eval's top 3).
	searchDepth = 10
)

// Answer answers a question: the best FAQ if it matches well enough, else the best passage if it
// covers enough of the question, else AnswerNone (TextNoAnswer).
func (kb *KB) Answer(question string) *Answer {
	q := index.QueryTerms(question)
	a := &Answer{Kind: AnswerNone, Text: TextNoAnswer}
	if f, conf := kb.matchFAQ(meaningful(q)); f != nil && conf >= kb.th.FAQ {
		a.Kind, a.Confidence, a.FAQ = AnswerFAQ, conf, f
		a.Text = faqReply(f)
		return a
	}
	a.Hits = kb.idx.SearchTerms(q, searchDepth)
	if len(a.Hits) == 0 {
		return a
	}
	fc := newFocus(question, q, kb.idx)
	kb.rerank(a.Hits, fc)
	top := a.Hits[0]
	a.Confidence = top.Coverage
	if top.Coverage < kb.th.Passage || top.Matched < min(2, len(meaningful(q))) {
		// One shared word is chance (今天天气 meets 一天天成长), not an answer.
		return a
	}
	p := &kb.Passages[top.Passage]
	a.Kind, a.Passage, a.Doc = AnswerPassage, p, &kb.Docs[p.Doc]
	a.Quote = fc.trim(p.Text, kb.folded[top.Passage])
	seen := map[int]bool{p.Doc: true}
	for _, h := range a.Hits[1:] {
		if len(a.SeeAlso) == 2 || h.Score < top.Score/2 || h.Coverage < kb.th.Passage {
			break
		}
		d := kb.Passages[h.Passage].Doc
		if !seen[d] {
			seen[d] = true
			a.SeeAlso = append(a.SeeAlso, clip(kb.Docs[d].Title, 30))
		}
	}
	a.Text = passageReply(a.Quote, a.Doc, a.SeeAlso)
	return a
}

// rerank orders the hits by their BM25 score (relative to the best) plus how well their best window
// of clauses answers (focus.share): of two passages that share the question's words, the one that has
// them together in a sentence, with a number when the question asks for one, is the answer.
func (kb *KB) rerank(hits []index.Hit, fc *focus) {
	if len(hits) < 2 || hits[0].Score <= 0 {
		return
	}
	top := hits[0].Score
	for i := range hits {
		hits[i].Score = hits[i].Score/top + focusWeight*fc.share(kb.folded[hits[i].Passage])
	}
	slices.SortStableFunc(hits, func(a, b index.Hit) int { return cmp.Compare(b.Score, a.Score) })
}

// focusWeight weighs focus.share against the BM25 score relative to the best hit's.
const focusWeight = 1.0

// matchFAQ finds the FAQ whose phrasing is most like the question: the Dice coefficient of their
// terms, weighted by IDF, so that sharing 党费 counts more than sharing 规定.
func (kb *KB) matchFAQ(q []index.Term) (*FAQ, float64) {
	if len(q) == 0 || len(kb.FAQs) == 0 {
		return nil, 0
	}
	w := func(t index.Term) float64 { return kb.idx.Weight(t.Kind) * kb.idx.IDF(t.Text) }
	qw := 0.0
	in := make(map[string]float64, len(q))
	for _, t := range q {
		in[t.Text] = w(t)
		qw += in[t.Text]
	}
	best, bestConf := -1, 0.0
	for i, phrasings := range kb.faqTerms {
		for _, ph := range phrasings {
			var pw, both float64
			for _, t := range ph {
				x := w(t)
				pw += x
				if _, ok := in[t.Text]; ok {
					both += x
				}
			}
			if pw == 0 {
				continue
			}
			if conf := 2 * both / (qw + pw); conf > bestConf {
				best, bestConf = i, conf
			}
		}
	}
	if best < 0 {
		return nil, 0
	}
	return &kb.FAQs[best], bestConf
}

// passageReply: “quote”, the source document (and its date), and up to two related titles.
func passageReply(quote string, d *Doc, seeAlso []string) string {
	src := "——《" + d.Title + "》"
	if d.Date != "" {
		src += " " + d.Date
	}
	src = clip(src, 100)
	related := ""
	if len(seeAlso) > 0 {
		related = "\n相关：《" + strings.Join(seeAlso, "》《") + "》"
	}
	room := MaxReply - utf8.RuneCountInString(src) - 3 // quotes and a line break
	if utf8.RuneCountInString(related) > room-40 {
		related = "" // the answer matters more than the related titles
	}
	room -= utf8.RuneCountInString(related)
	return "“" + clip(quote, room) + "”\n" + src + related
}

// faqReply is an FAQ's answer with its source, if it names one.
func faqReply(f *FAQ) string {
	src := ""
	if s := strings.TrimSpace(f.Source); s != "" {
		src = "\n——" + clip(s, 60)
	}
	return clip(strings.TrimSpace(f.Answer), MaxReply-utf8.RuneCountInString(src)) + src
}

// KBFromDocuments indexes parsed documents (not stored anywhere): for evaluating a folder of files and
// for tests. Documents and passages are numbered from 1 in order.
func KBFromDocuments(docs []*Document, faqs []FAQ, p index.Params, th Thresholds) *KB {
	var ds []Doc
	var ps []Passage
	for i, d := range docs {
		ds = append(ds, Doc{ID: uint(i + 1), Name: d.Name, Title: d.Title, Source: d.Source, Date: d.Date})
		for j, t := range d.Passages {
			ps = append(ps, Passage{ID: uint(len(ps) + 1), Doc: i, Seq: j, Text: t})
		}
	}
	return NewKB(ds, ps, faqs, p, th)
}
