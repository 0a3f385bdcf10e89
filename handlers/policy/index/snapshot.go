package index

import (
	"encoding/gob"
	"fmt"
)

// snapshot is an Index as it is written to disk: the flat arrays as they are, the term dictionary
// as a list (term t is Terms[t]); document frequencies and averages are derived again on loading.
type snapshot struct {
	Params Params
	Terms  []string
	Kinds  []Kind
	Off    []uint32
	Post   []uint32
	TF     []uint16
	PLen   []uint32
	PGroup []uint32
	GLen   []uint32
}

// Encode writes the index to a gob stream.
func (x *Index) Encode(enc *gob.Encoder) error {
	terms := make([]string, len(x.kinds))
	for t, id := range x.terms {
		terms[id] = t
	}
	return enc.Encode(snapshot{Params: x.p, Terms: terms, Kinds: x.kinds, Off: x.off, Post: x.post, TF: x.tf,
		PLen: x.plen, PGroup: x.pgroup, GLen: x.glen})
}

// Decode reads an index written by Encode, checking that its arrays fit together.
func Decode(dec *gob.Decoder) (*Index, error) {
	var s snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	n := len(s.Terms)
	if len(s.Kinds) != n || len(s.Off) != n+1 || len(s.Post) != len(s.TF) || len(s.PLen) != len(s.PGroup) ||
		(n > 0 && int(s.Off[n]) != len(s.Post)) {
		return nil, fmt.Errorf("index: snapshot does not fit together")
	}
	for i := 0; i < n; i++ {
		if s.Off[i] > s.Off[i+1] {
			return nil, fmt.Errorf("index: snapshot offsets out of order")
		}
	}
	for _, p := range s.Post {
		if int(p) >= len(s.PLen) {
			return nil, fmt.Errorf("index: snapshot posting out of range")
		}
	}
	for _, g := range s.PGroup {
		if int(g) >= len(s.GLen) {
			return nil, fmt.Errorf("index: snapshot group out of range")
		}
	}
	x := &Index{p: s.Params.withDefaults(), terms: make(map[string]uint32, n), kinds: s.Kinds, off: s.Off, post: s.Post,
		tf: s.TF, plen: s.PLen, pgroup: s.PGroup, glen: s.GLen}
	if n == 0 {
		x.off = []uint32{0}
	}
	for i, t := range s.Terms {
		x.terms[t] = uint32(i)
	}
	x.finish()
	return x, nil
}
