package wxfake

import (
	"encoding/json"
	"sort"
)

// User tags and mass sends (群发), as a service account has them: at most MaxTags tags (45056 beyond),
// names unique (45157) and at most 30 bytes (45158); a user carries at most MaxUserTags tags (45059);
// a tag with more than MaxDeleteTagMembers members cannot be deleted (45057: untag some first); the
// system tags 0, 1 and 2 cannot be deleted (45058). A follower receives at most MassMonthly mass
// messages (over the fake's life: its "month"); the others are filtered, as MASSSENDJOBFINISH counts
// them (MassJob).

// More WeChat API paths the fake answers.
const (
	APITagsCreate     = "/cgi-bin/tags/create"
	APITagsGet        = "/cgi-bin/tags/get"
	APITagsDelete     = "/cgi-bin/tags/delete"
	APIBatchUntagging = "/cgi-bin/tags/members/batchuntagging"
)

// WeChat's limits on tags and mass messages.
const (
	MaxTags             = 100
	MaxUserTags         = 20
	MaxDeleteTagMembers = 100000
	MassMonthly         = 4
	firstTagID          = 100 // WeChat's own tags are 0, 1 and 2
)

// MassJob is what WeChat reports of a mass send when it has finished (the MASSSENDJOBFINISH event).
type MassJob struct {
	MsgID       int64
	Status      string // "send success"
	TotalCount  int    // the tag's members
	FilterCount int    // of them not sent to: over their monthly mass messages
	SentCount   int
	ErrorCount  int
}

type massState struct {
	names    map[int64]string // tags made, by id
	nextTag  int64
	userTags map[string]int // openid → tags he carries
	received map[string]int // openid → mass messages received
	jobs     map[int64]MassJob
}

func newMassState() massState {
	return massState{names: map[int64]string{}, nextTag: firstTagID, userTags: map[string]int{}, received: map[string]int{},
		jobs: map[int64]MassJob{}}
}

// deliver sends mass message msgID to these openids: those within their monthly mass messages get it
// (returned), the others are filtered; the job is kept for MassJob.
func (m *massState) deliver(msgID int64, to []string) []string {
	out := to[:0:0]
	for _, id := range to {
		if m.received[id] >= MassMonthly {
			continue
		}
		m.received[id]++
		out = append(out, id)
	}
	m.jobs[msgID] = MassJob{MsgID: msgID, Status: "send success", TotalCount: len(to), FilterCount: len(to) - len(out), SentCount: len(out)}
	return out
}

// MassJob returns the report of mass send msgID (false: no such send).
func (s *Server) MassJob(msgID int64) (MassJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.mass.jobs[msgID]
	return j, ok
}

// SetMassReceived sets how many mass messages openid has received this month (MassMonthly: no more
// reach him).
func (s *Server) SetMassReceived(openID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mass.received[openID] = n
}

// MassReceived returns how many mass messages openid received.
func (s *Server) MassReceived(openID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mass.received[openID]
}

// Tags returns the tags that exist, id → name.
func (s *Server) Tags() map[int64]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]string, len(s.mass.names))
	for id, name := range s.mass.names {
		out[id] = name
	}
	return out
}

type tagBody struct {
	Tag struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"tag"`
}

func (s *Server) tagsCreate(c *Call) reply {
	var req tagBody
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	name := req.Tag.Name
	switch {
	case name == "" || len(name) > 30:
		return errReply(45158)
	case len(s.mass.names) >= MaxTags:
		return errReply(45056)
	}
	for _, n := range s.mass.names {
		if n == name {
			return errReply(45157)
		}
	}
	id := s.mass.nextTag
	s.mass.nextTag++
	s.mass.names[id] = name
	return reply{"tag": map[string]any{"id": id, "name": name}} // WeChat answers a created tag without errcode
}

func (s *Server) tagsGet(*Call) reply {
	ids := make([]int64, 0, len(s.mass.names))
	for id := range s.mass.names {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	tags := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		tags = append(tags, map[string]any{"id": id, "name": s.mass.names[id], "count": len(s.tags[id])})
	}
	return reply{"tags": tags}
}

func (s *Server) tagsDelete(c *Call) reply {
	var req tagBody
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	id := req.Tag.ID
	if id >= 0 && id <= 2 {
		return errReply(45058)
	}
	if _, ok := s.mass.names[id]; !ok {
		return errReply(45159)
	}
	if len(s.tags[id]) > MaxDeleteTagMembers {
		return errReply(45057)
	}
	for openID := range s.tags[id] {
		s.mass.userTags[openID]--
	}
	delete(s.tags, id)
	delete(s.mass.names, id)
	return okReply(nil)
}

func (s *Server) batchUntagging(c *Call) reply {
	var req struct {
		OpenIDs []string `json:"openid_list"`
		TagID   int64    `json:"tagid"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return errReply(47001)
	}
	if len(req.OpenIDs) == 0 || len(req.OpenIDs) > 50 {
		return errReply(40032)
	}
	if _, ok := s.mass.names[req.TagID]; !ok {
		return errReply(45159)
	}
	for _, id := range req.OpenIDs {
		if s.tags[req.TagID][id] {
			delete(s.tags[req.TagID], id)
			s.mass.userTags[id]--
		}
	}
	return okReply(nil)
}
