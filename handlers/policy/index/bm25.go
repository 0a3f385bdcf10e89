package index

import (
	"math"
	"slices"
	"sort"
	"sync"
)

// Passage is one unit of retrieval as Build takes it: its text, folded (Fold), and the document it
// belongs to (0 … groups-1). The caller folds, so that it can keep the folded text for its own use.
type Passage struct {
	Group  int
	Folded string
}

// Params tune the scoring. Zero values take the defaults of DefaultParams.
type Params struct {
	K1, B     float64 // BM25
	UniWeight float64 // weight of single-character terms against bigrams (1)
	NumWeight float64 // weight of numbers and number+unit terms
	DocWeight float64 // weight of the document-level BM25 added to each passage's
}

// DefaultParams were chosen on the dev questions and checked against held-out questions written
// for the purpose (see policy's eval tests): bigrams carry the meaning, unigrams only break ties and
// catch one-character words, and the document-level score lets a question name its place (宣恩县) when
// the passage that answers does not repeat it.
func DefaultParams() Params {
	return Params{K1: 1.2, B: 0.75, UniWeight: 0.25, NumWeight: 1.5, DocWeight: 0.4}
}

// Index is an immutable BM25 index of passages grouped into documents. Postings are stored flat (one
// array for all terms, offsets per term), which keeps 10,000 passages in a few tens of MB.
type Index struct {
	p      Params
	terms  map[string]uint32
	kinds  []Kind
	df     []uint32 // passages containing the term
	ddf    []uint32 // documents containing the term
	off    []uint32 // postings of term t: post[off[t]:off[t+1]]
	post   []uint32 // passage numbers, ascending per term
	tf     []uint16
	plen   []uint32 // terms per passage
	pgroup []uint32
	glen   []uint32 // terms per document
	avgP   float64
	avgG   float64

	scratch sync.Pool
}

// Build indexes the passages; groups is the number of documents.
func Build(ps []Passage, groups int, p Params) *Index {
	x := &Index{p: p.withDefaults(), terms: map[string]uint32{}, plen: make([]uint32, len(ps)),
		pgroup: make([]uint32, len(ps)), glen: make([]uint32, groups)}
	type occ struct {
		term uint32
		tf   uint16
	}
	perPassage := make([][]occ, len(ps))
	counts := []uint32{}
	tfs := map[uint32]uint16{}
	for i, ps := range ps {
		clear(tfs)
		toks := Tokens(ps.Folded)
		for _, t := range toks {
			id, ok := x.terms[t.Text]
			if !ok {
				id = uint32(len(x.kinds))
				x.terms[t.Text] = id
				x.kinds = append(x.kinds, t.Kind)
				counts = append(counts, 0)
			}
			if tfs[id] < math.MaxUint16 {
				tfs[id]++
			}
		}
		occs := make([]occ, 0, len(tfs))
		for id, n := range tfs {
			occs = append(occs, occ{id, n})
			counts[id]++
		}
		perPassage[i] = occs
		x.plen[i] = uint32(len(toks))
		x.pgroup[i] = uint32(ps.Group)
		if ps.Group >= 0 && ps.Group < groups {
			x.glen[ps.Group] += uint32(len(toks))
		}
	}
	x.off = make([]uint32, len(x.kinds)+1)
	for t, n := range counts {
		x.off[t+1] = x.off[t] + n
	}
	x.post = make([]uint32, x.off[len(x.kinds)])
	x.tf = make([]uint16, len(x.post))
	fill := slices.Clone(x.off[:len(x.kinds)])
	for i, occs := range perPassage {
		for _, o := range occs {
			x.post[fill[o.term]] = uint32(i)
			x.tf[fill[o.term]] = o.tf
			fill[o.term]++
		}
	}
	x.finish()
	return x
}

// finish derives what Build and a loaded snapshot share: document frequencies and average lengths.
func (x *Index) finish() {
	x.df = make([]uint32, len(x.kinds))
	x.ddf = make([]uint32, len(x.kinds))
	for t := range x.kinds {
		ps := x.post[x.off[t]:x.off[t+1]]
		x.df[t] = uint32(len(ps))
		last := uint32(math.MaxUint32)
		seen := map[uint32]bool{}
		for _, p := range ps {
			g := x.pgroup[p]
			if g != last && !seen[g] {
				seen[g] = true
				x.ddf[t]++
			}
			last = g
		}
	}
	var sp, sg float64
	for _, n := range x.plen {
		sp += float64(n)
	}
	for _, n := range x.glen {
		sg += float64(n)
	}
	x.avgP, x.avgG = 1, 1
	if len(x.plen) > 0 && sp > 0 {
		x.avgP = sp / float64(len(x.plen))
	}
	if len(x.glen) > 0 && sg > 0 {
		x.avgG = sg / float64(len(x.glen))
	}
	x.scratch.New = func() any {
		return &scratch{score: make([]float32, len(x.plen)), mask: make([]uint64, len(x.plen)),
			gtf: make([]uint32, len(x.glen)), gmask: make([]uint64, len(x.glen)), gscore: make([]float32, len(x.glen))}
	}
}

func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.K1 == 0 {
		p.K1 = d.K1
	}
	if p.B == 0 {
		p.B = d.B
	}
	if p.UniWeight == 0 {
		p.UniWeight = d.UniWeight
	}
	if p.NumWeight == 0 {
		p.NumWeight = d.NumWeight
	}
	if p.DocWeight == 0 {
		p.DocWeight = d.DocWeight
	}
	return p
}

// Len is the number of passages.
func (x *Index) Len() int { return len(x.plen) }

// Terms is the number of distinct terms.
func (x *Index) Terms() int { return len(x.kinds) }

// idf of a term found in df of n units (BM25's, always positive).
func idf(df, n int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// IDF is a term's weight over the passages; a term the index does not know weighs as one found once.
func (x *Index) IDF(term string) float64 {
	if t, ok := x.terms[term]; ok {
		return idf(int(x.df[t]), len(x.plen))
	}
	return idf(1, max(len(x.plen), 1))
}

// Weight is how much a query term of this kind counts (before IDF).
func (x *Index) Weight(k Kind) float64 {
	switch k {
	case Uni:
		return x.p.UniWeight
	case Num, NumUnit:
		return x.p.NumWeight
	}
	return 1
}

// Hit is one passage found.
type Hit struct {
	Passage int
	Group   int
	Score   float64
	// Coverage is the share (0–1) of the question's weight the passage holds: its meaningful terms
	// (bigrams, numbers, words; not single characters) weighted by IDF, a term found only elsewhere in
	// the passage's document counting half. It is the confidence the answer's threshold compares.
	Coverage float64
	// Matched counts the question's meaningful terms found in the passage itself.
	Matched int
}

// commonUni: single characters found in more than 1/commonUni of the passages are not scored.
const commonUni = 5

type scratch struct {
	score   []float32
	mask    []uint64
	gtf     []uint32
	gmask   []uint64
	gscore  []float32
	touched []uint32 // documents with a gtf of the current term
}

// QueryTerms are the distinct terms of a question that count: its tokens less question words (多少,
// 怎么, 吗, …), at most 64.
func QueryTerms(question string) []Term {
	toks := Tokens(Fold(question))
	seen := make(map[string]bool, len(toks))
	out := toks[:0]
	for _, t := range toks {
		if seen[t.Text] || stopTerm(t) {
			continue
		}
		seen[t.Text] = true
		out = append(out, t)
		if len(out) == 64 {
			break
		}
	}
	return out
}

// Search returns the best k passages for a question, best first.
func (x *Index) Search(question string, k int) []Hit {
	return x.SearchTerms(QueryTerms(question), k)
}

// SearchTerms is Search with the question's terms already made (QueryTerms).
func (x *Index) SearchTerms(q []Term, k int) []Hit {
	n := len(x.plen)
	if n == 0 || len(q) == 0 || k <= 0 {
		return nil
	}
	s := x.scratch.Get().(*scratch)
	defer x.scratch.Put(s)
	clear(s.score)
	clear(s.mask)
	clear(s.gmask)
	clear(s.gscore)
	k1, b := x.p.K1, x.p.B
	var total float64
	weights := make([]float64, len(q))
	for qi, term := range q {
		w := x.Weight(term.Kind)
		if term.Kind != Uni {
			weights[qi] = w * x.IDF(term.Text)
			total += weights[qi]
		}
		t, ok := x.terms[term.Text]
		if !ok || (term.Kind == Uni && x.df[t] > uint32(n/commonUni)) {
			// A character in more than a fifth of the passages tells them apart by a hair, and its
			// postings are the longest to walk.
			continue
		}
		pidf := w * idf(int(x.df[t]), n)
		lo, hi := x.off[t], x.off[t+1]
		s.touched = s.touched[:0]
		for i := lo; i < hi; i++ {
			p, tf := x.post[i], float64(x.tf[i])
			s.score[p] += float32(pidf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(x.plen[p])/x.avgP)))
			s.mask[p] |= 1 << qi
			g := x.pgroup[p]
			if s.gtf[g] == 0 {
				s.touched = append(s.touched, g)
			}
			s.gtf[g] += uint32(x.tf[i])
			s.gmask[g] |= 1 << qi
		}
		gidf := w * idf(int(x.ddf[t]), len(x.glen))
		for _, g := range s.touched {
			tf := float64(s.gtf[g])
			s.gtf[g] = 0
			s.gscore[g] += float32(gidf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(x.glen[g])/x.avgG)))
		}
	}
	hits := make([]Hit, 0, k+1)
	dw := float32(x.p.DocWeight)
	for p := 0; p < n; p++ {
		if s.score[p] == 0 {
			continue
		}
		sc := float64(s.score[p] + dw*s.gscore[x.pgroup[p]])
		if len(hits) == k && sc <= hits[k-1].Score {
			continue
		}
		at := sort.Search(len(hits), func(i int) bool { return hits[i].Score < sc })
		hits = slices.Insert(hits, at, Hit{Passage: p, Group: int(x.pgroup[p]), Score: sc})
		if len(hits) > k {
			hits = hits[:k]
		}
	}
	for i := range hits {
		h := &hits[i]
		if total == 0 {
			continue
		}
		var in, near float64
		pm, gm := s.mask[h.Passage], s.gmask[h.Group]
		for qi := range q {
			bit := uint64(1) << qi
			switch {
			case pm&bit != 0:
				in += weights[qi]
				if q[qi].Kind != Uni {
					h.Matched++
				}
			case gm&bit != 0:
				near += weights[qi]
			}
		}
		h.Coverage = (in + near/2) / total
	}
	return hits
}
