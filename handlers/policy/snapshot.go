package policy

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/yanzhen/yanzhen/handlers/policy/index"
	"github.com/yanzhen/yanzhen/models"
)

// The snapshot is one file in the index folder: a header naming the state it was built from, the
// documents, passages and FAQs, and the index. Processes sharing the folder share it: each writes a
// temporary file and renames it over the old one, so a reader sees a whole snapshot or the previous one.
const (
	snapshotFile    = "policy-kb.gob"
	snapshotVersion = 1 // bump when the format or the tokens change: older snapshots are then rebuilt
)

var errNoSnapshot = errors.New("policy: no snapshot")

type snapshotHeader struct {
	Version int
	Epoch   string
	Gen     int64
	Params  index.Params
}

type snapshotBody struct {
	Docs     []Doc
	Passages []Passage
	FAQs     []FAQ
}

// loadSnapshot reads the snapshot when it is of state st (errNoSnapshot when there is none of it).
func (s *Service) loadSnapshot(st models.PolicyIndexState) (*KB, error) {
	if s.dir == "" {
		return nil, errNoSnapshot
	}
	f, err := os.Open(filepath.Join(s.dir, snapshotFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoSnapshot
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("policy: snapshot header: %w", err)
	}
	if h.Version != snapshotVersion || h.Epoch != st.Epoch || h.Gen != st.Generation || h.Params != s.p {
		return nil, errNoSnapshot
	}
	var b snapshotBody
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("policy: snapshot: %w", err)
	}
	idx, err := index.Decode(dec)
	if err != nil {
		return nil, fmt.Errorf("policy: snapshot: %w", err)
	}
	if idx.Len() != len(b.Passages) {
		return nil, fmt.Errorf("policy: snapshot: %d passages, index of %d", len(b.Passages), idx.Len())
	}
	kb := &KB{Epoch: h.Epoch, Gen: h.Gen, Docs: b.Docs, Passages: b.Passages, FAQs: b.FAQs, idx: idx, th: s.th}
	kb.folded = make([]string, len(b.Passages))
	for i, p := range b.Passages {
		kb.folded[i] = index.Fold(p.Text)
	}
	kb.indexFAQs()
	return kb, nil
}

// saveSnapshot writes kb to the index folder.
func (s *Service) saveSnapshot(kb *KB) error {
	if s.dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, snapshotFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing to remove
	w := bufio.NewWriterSize(tmp, 1<<16)
	enc := gob.NewEncoder(w)
	err = enc.Encode(snapshotHeader{Version: snapshotVersion, Epoch: kb.Epoch, Gen: kb.Gen, Params: s.p})
	if err == nil {
		err = enc.Encode(snapshotBody{Docs: kb.Docs, Passages: kb.Passages, FAQs: kb.FAQs})
	}
	if err == nil {
		err = kb.idx.Encode(enc)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(s.dir, snapshotFile))
}
