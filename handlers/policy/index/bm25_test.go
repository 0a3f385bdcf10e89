package index

import (
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"
)

var passages = []Passage{
	{Group: 0, Folded: Fold("确保村书记每年培训达到56学时。")},
	{Group: 0, Folded: Fold("区财政每年投入8071万元用于保障村干部待遇(村主职干部4.2万元/年)。")},
	{Group: 1, Folded: Fold("洪雅縣為全縣159個村(社區)分別配備1名“黨建專幹”。")},
	{Group: 1, Folded: Fold("各鄉鎮按照1000元/人進行預算。")},
	{Group: 2, Folded: Fold("6分以下提醒谈话,扣满12分确定为不合格党员。")},
}

func TestSearch(t *testing.T) {
	x := Build(passages, 3, Params{})
	for _, c := range []struct {
		q    string
		want int
	}{
		{"村书记每年培训多少学时", 0},
		{"村主职干部待遇是多少", 1},
		{"村干部一年能拿42000元吗", 1}, // 4.2万元 is 42000元
		{"洪雅县给多少个村配了党建专干", 2},
		{"鄉鎮每人預算多少", 3},  // Traditional question, Traditional passage
		{"扣到六分以下怎么办", 4}, // 六分 meets 6分
		{"ＰＰＴ　党员扣满１２分", 4},
	} {
		hits := x.Search(c.q, 3)
		if len(hits) == 0 || hits[0].Passage != c.want {
			t.Errorf("Search(%q) = %+v, want passage %d first", c.q, hits, c.want)
			continue
		}
		if h := hits[0]; h.Coverage <= 0 || h.Coverage > 1 || h.Matched == 0 {
			t.Errorf("Search(%q): coverage %.2f, matched %d", c.q, h.Coverage, h.Matched)
		}
	}
	if hits := x.Search("今天天气不错", 3); len(hits) > 0 && hits[0].Coverage > 0.3 {
		t.Errorf("off-topic question covered: %+v", hits)
	}
	if hits := x.Search("", 3); hits != nil {
		t.Errorf("empty question: %+v", hits)
	}
	if hits := Build(nil, 0, Params{}).Search("党建", 3); hits != nil {
		t.Errorf("empty index: %+v", hits)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	x := Build(passages, 3, Params{})
	var buf bytes.Buffer
	if err := x.Encode(gob.NewEncoder(&buf)); err != nil {
		t.Fatal(err)
	}
	y, err := Decode(gob.NewDecoder(&buf))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"村书记每年培训多少学时", "鄉鎮每人預算多少", "扣到六分以下怎么办"} {
		if a, b := x.Search(q, 5), y.Search(q, 5); !reflect.DeepEqual(a, b) {
			t.Errorf("%q: built %+v, loaded %+v", q, a, b)
		}
	}
	// A snapshot whose arrays do not fit together is refused, not trusted.
	var bad bytes.Buffer
	gob.NewEncoder(&bad).Encode(snapshot{Terms: []string{"党建"}, Kinds: []Kind{Bi}, Off: []uint32{0, 5}, Post: []uint32{0}, TF: []uint16{1},
		PLen: []uint32{1}, PGroup: []uint32{0}, GLen: []uint32{1}})
	if _, err := Decode(gob.NewDecoder(&bad)); err == nil {
		t.Fatal("a broken snapshot was accepted")
	}
}
