package policy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
)

// EvalQuestion is one line of a question file (shared/corpus/policy-questions.dev.jsonl): the question,
// the file name of the document that answers it, and strings the answer must contain.
type EvalQuestion struct {
	Q      string   `json:"q"`
	Source string   `json:"source"`
	Expect []string `json:"expect"`
}

// ReadEvalQuestions reads a question file, one JSON object a line (blank lines and lines starting with
// # are skipped). A bad line is an error naming its number.
func ReadEvalQuestions(r io.Reader) ([]EvalQuestion, error) {
	var out []EvalQuestion
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var q EvalQuestion
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if strings.TrimSpace(q.Q) == "" {
			return nil, fmt.Errorf("line %d: no \"q\"", n)
		}
		out = append(out, q)
	}
	return out, sc.Err()
}

// EvalRow is the outcome of one question.
type EvalRow struct {
	Question EvalQuestion
	Answer   *Answer
	TopDoc   string // file name of the top passage's document ("" if none)
	TopText  string // the answer given (the trimmed quote), or the top passage when the bot declined
	Top1     bool   // the bot answered from the right document, and its answer holds every expected string
	Top3     bool   // a passage of the right document holding every expected string is among the first 3
	Took     time.Duration
}

// EvalReport sums up an evaluation.
type EvalReport struct {
	Rows               []EvalRow
	Top1, Top3         float64 // shares of the questions, 0–1
	P50, P90, P99, Max time.Duration
}

// Eval answers every question (FAQs left out: they name no source file) and checks the answers the way
// people would: the source document, and the expected strings after folding (Traditional, full-width).
func (kb *KB) Eval(qs []EvalQuestion) *EvalReport {
	rep := &EvalReport{}
	var took []time.Duration
	noFAQ := *kb
	noFAQ.FAQs, noFAQ.faqTerms = nil, nil
	for _, q := range qs {
		start := time.Now()
		a := noFAQ.Answer(q.Q)
		row := EvalRow{Question: q, Answer: a, Took: time.Since(start)}
		took = append(took, row.Took)
		if len(a.Hits) > 0 {
			p := kb.Passages[a.Hits[0].Passage]
			row.TopDoc, row.TopText = kb.Docs[p.Doc].Name, p.Text
		}
		if a.Kind == AnswerPassage {
			row.TopText = a.Quote
			row.Top1 = a.Doc.Name == q.Source && holdsAll(a.Quote, q.Expect)
		}
		for i, h := range a.Hits {
			p := kb.Passages[h.Passage]
			if i < 3 && kb.Docs[p.Doc].Name == q.Source && holdsAll(p.Text, q.Expect) {
				row.Top3 = true
			}
		}
		row.Top3 = row.Top3 || row.Top1
		if row.Top1 {
			rep.Top1++
		}
		if row.Top3 {
			rep.Top3++
		}
		rep.Rows = append(rep.Rows, row)
	}
	if n := float64(len(qs)); n > 0 {
		rep.Top1 /= n
		rep.Top3 /= n
	}
	slices.Sort(took)
	rep.P50, rep.P90, rep.P99 = percentile(took, 0.50), percentile(took, 0.90), percentile(took, 0.99)
	if len(took) > 0 {
		rep.Max = took[len(took)-1]
	}
	return rep
}

// holdsAll reports whether text holds every expected string, both folded.
func holdsAll(text string, expect []string) bool {
	f := index.Fold(text)
	for _, e := range expect {
		if !strings.Contains(f, index.Fold(e)) {
			return false
		}
	}
	return true
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
