package wxclient

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/yanzhen/yanzhen/bot/wechat/wxxml"
)

// Message is one push as WeChat sends it. The builders on Client fill it in; tests may change any
// field. Sending the same *Message again is a WeChat retry: same MsgId, same CreateTime.
type Message struct {
	ToUserName   string // the account (gh_…); empty: Client.AppUser
	FromUserName string // the user's openid
	CreateTime   int64  // unix seconds; 0: the client's Now at encoding
	MsgType      string
	Content      string // text

	// Location messages.
	LocationX, LocationY float64 // latitude, longitude
	Scale                int
	Label                string

	// Events.
	Event    string
	EventKey string
	Ticket   string
	// LOCATION events, as WeChat writes them ("23.137466").
	Latitude, Longitude, Precision string

	// Extra elements, written as CDATA before MsgId (e.g. MediaId of an image message).
	Extra []Field

	MsgID int64 // messages only; 0 (events) writes no MsgId
}

// Field is an extra element of a message.
type Field struct{ Name, Value string }

// ticket is the example ticket from WeChat's documentation, for QR scans that do not name one.
const ticket = "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw=="

// Text is a text message with the next MsgId.
func (c *Client) Text(from, content string) *Message {
	return c.message(from, "text", &Message{Content: content, MsgID: c.MsgIDs.Next()})
}

// Location is a location message (the user sent a place): latitude, longitude, map scale and label.
func (c *Client) Location(from string, lat, lng float64, scale int, label string) *Message {
	return c.message(from, "location", &Message{LocationX: lat, LocationY: lng, Scale: scale, Label: label, MsgID: c.MsgIDs.Next()})
}

// Subscribe is a follow event; with a scene it is the follow that scanning a parametric QR code
// causes (EventKey "qrscene_"+scene, and a Ticket).
func (c *Client) Subscribe(from, scene string) *Message {
	m := &Message{Event: "subscribe"}
	if scene != "" {
		m.EventKey, m.Ticket = "qrscene_"+scene, ticket
	}
	return c.message(from, "event", m)
}

// Unsubscribe is an unfollow event.
func (c *Client) Unsubscribe(from string) *Message {
	return c.message(from, "event", &Message{Event: "unsubscribe"})
}

// Scan is the event of a follower scanning a parametric QR code; an empty ticket uses a sample one.
func (c *Client) Scan(from, scene, qrTicket string) *Message {
	if qrTicket == "" {
		qrTicket = ticket
	}
	return c.message(from, "event", &Message{Event: "SCAN", EventKey: scene, Ticket: qrTicket})
}

// LocationEvent is the LOCATION event WeChat reports by itself (precision in metres).
func (c *Client) LocationEvent(from string, lat, lng, precision float64) *Message {
	return c.message(from, "event", &Message{
		Event:     "LOCATION",
		Latitude:  strconv.FormatFloat(lat, 'f', 6, 64),
		Longitude: strconv.FormatFloat(lng, 'f', 6, 64),
		Precision: strconv.FormatFloat(precision, 'f', 6, 64),
	})
}

// Click is a menu click (CLICK event) with the menu key.
func (c *Client) Click(from, key string) *Message {
	return c.message(from, "event", &Message{Event: "CLICK", EventKey: key})
}

// View is a menu link click (VIEW event) with the URL.
func (c *Client) View(from, url string) *Message {
	return c.message(from, "event", &Message{Event: "VIEW", EventKey: url})
}

func (c *Client) message(from, msgType string, m *Message) *Message {
	m.ToUserName, m.FromUserName, m.CreateTime, m.MsgType = c.AppUser, from, c.now().Unix(), msgType
	return m
}

// appendXML appends the message in WeChat's XML, fields in WeChat's order.
func (m *Message) appendXML(dst []byte, toUser string, createTime int64) []byte {
	dst = append(dst, "<xml><ToUserName>"...)
	dst = wxxml.AppendCDATA(dst, toUser)
	dst = append(dst, "</ToUserName><FromUserName>"...)
	dst = wxxml.AppendCDATA(dst, m.FromUserName)
	dst = append(dst, "</FromUserName><CreateTime>"...)
	dst = strconv.AppendInt(dst, createTime, 10)
	dst = append(dst, "</CreateTime><MsgType>"...)
	dst = wxxml.AppendCDATA(dst, m.MsgType)
	dst = append(dst, "</MsgType>"...)
	if m.Content != "" || m.MsgType == "text" {
		dst = appendCDATAElem(dst, "Content", m.Content)
	}
	if m.MsgType == "location" {
		dst = appendElem(dst, "Location_X", strconv.FormatFloat(m.LocationX, 'f', -1, 64))
		dst = appendElem(dst, "Location_Y", strconv.FormatFloat(m.LocationY, 'f', -1, 64))
		dst = appendElem(dst, "Scale", strconv.Itoa(m.Scale))
		dst = appendCDATAElem(dst, "Label", m.Label)
	}
	if m.Event != "" {
		dst = appendCDATAElem(dst, "Event", m.Event)
	}
	if m.EventKey != "" {
		dst = appendCDATAElem(dst, "EventKey", m.EventKey)
	}
	if m.Ticket != "" {
		dst = appendCDATAElem(dst, "Ticket", m.Ticket)
	}
	if m.Latitude != "" || m.Longitude != "" || m.Precision != "" {
		dst = appendElem(dst, "Latitude", m.Latitude)
		dst = appendElem(dst, "Longitude", m.Longitude)
		dst = appendElem(dst, "Precision", m.Precision)
	}
	for _, f := range m.Extra {
		dst = appendCDATAElem(dst, f.Name, f.Value)
	}
	if m.MsgID != 0 {
		dst = append(dst, "<MsgId>"...)
		dst = strconv.AppendInt(dst, m.MsgID, 10)
		dst = append(dst, "</MsgId>"...)
	}
	return append(dst, "</xml>"...)
}

func appendCDATAElem(dst []byte, name, value string) []byte {
	dst = append(append(append(dst, '<'), name...), '>')
	dst = wxxml.AppendCDATA(dst, value)
	return append(append(append(dst, "</"...), name...), '>')
}

// appendElem writes a number as WeChat does, without CDATA (value must need no escaping).
func appendElem(dst []byte, name, value string) []byte {
	dst = append(append(append(dst, '<'), name...), '>')
	dst = append(dst, value...)
	return append(append(append(dst, "</"...), name...), '>')
}

// jsonMessage is the mini-program's JSON push, fields in WeChat's order.
type jsonMessage struct {
	ToUserName   string   `json:"ToUserName"`
	FromUserName string   `json:"FromUserName"`
	CreateTime   int64    `json:"CreateTime"`
	MsgType      string   `json:"MsgType"`
	Content      *string  `json:"Content,omitempty"`
	LocationX    *float64 `json:"Location_X,omitempty"`
	LocationY    *float64 `json:"Location_Y,omitempty"`
	Scale        *int     `json:"Scale,omitempty"`
	Label        *string  `json:"Label,omitempty"`
	Event        string   `json:"Event,omitempty"`
	EventKey     string   `json:"EventKey,omitempty"`
	Ticket       string   `json:"Ticket,omitempty"`
	Latitude     string   `json:"Latitude,omitempty"`
	Longitude    string   `json:"Longitude,omitempty"`
	Precision    string   `json:"Precision,omitempty"`
	MsgID        int64    `json:"MsgId,omitempty"`
}

// appendJSON appends the message as the mini-program's JSON push (extra fields as strings).
func (m *Message) appendJSON(dst []byte, toUser string, createTime int64) ([]byte, error) {
	j := jsonMessage{
		ToUserName: toUser, FromUserName: m.FromUserName, CreateTime: createTime, MsgType: m.MsgType,
		Event: m.Event, EventKey: m.EventKey, Ticket: m.Ticket,
		Latitude: m.Latitude, Longitude: m.Longitude, Precision: m.Precision, MsgID: m.MsgID,
	}
	if m.Content != "" || m.MsgType == "text" {
		j.Content = &m.Content
	}
	if m.MsgType == "location" {
		j.LocationX, j.LocationY, j.Scale, j.Label = &m.LocationX, &m.LocationY, &m.Scale, &m.Label
	}
	b, err := json.Marshal(j)
	if err != nil {
		return dst, err
	}
	if len(m.Extra) > 0 {
		extra := make(map[string]string, len(m.Extra))
		for _, f := range m.Extra {
			extra[f.Name] = f.Value
		}
		e, err := json.Marshal(extra)
		if err != nil {
			return dst, err
		}
		b = append(append(b[:len(b)-1], ','), e[1:]...) // splice the two objects
	}
	return append(dst, b...), nil
}

// Sequence hands out MsgIds, safe for concurrent use.
type Sequence struct{ n atomic.Int64 }

// NewSequence starts at start; start <= 0 starts from the clock, so that runs do not collide in the
// server's dedup store.
func NewSequence(start int64) *Sequence {
	if start <= 0 {
		start = time.Now().UnixNano()
	}
	s := &Sequence{}
	s.n.Store(start - 1)
	return s
}

// Next returns the next MsgId.
func (s *Sequence) Next() int64 { return s.n.Add(1) }
