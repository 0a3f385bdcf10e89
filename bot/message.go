// Package bot is Yanzhen's channel-neutral chat core: a Message comes in from the official account or
// the mini-program, the Router finds its handler (pending conversation step → keyword → menu key or
// event → fallback) through middleware (recover, dedup, identity, conversation state), and the handler
// answers with a Reply. The bot knows nothing of XML; bot/wechat adapts WeChat to it.
package bot

import (
	"strconv"
	"time"
)

// Channels.
const (
	ChannelOA = "oa" // official account (公众号)
	ChannelMP = "mp" // mini-program (小程序)
)

// Kinds of message.
const (
	KindText     = "text"
	KindLocation = "location" // a location message the user sent
	KindEvent    = "event"
	KindImage    = "image"
	KindVoice    = "voice"
	KindVideo    = "video"
	KindLink     = "link"
	KindOther    = "other"
)

// Events the router understands (WeChat's own names).
const (
	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventScan        = "SCAN"
	EventLocation    = "LOCATION"
	EventClick       = "CLICK"
	EventView        = "VIEW"
)

// EventMassSendJobFinish: WeChat finished a mass send (群发); Message.Mass has its figures.
const EventMassSendJobFinish = "MASSSENDJOBFINISH"

// Message is one inbound message or event, normalized.
type Message struct {
	Channel    string // ChannelOA or ChannelMP
	OpenID     string // the sender (FromUserName)
	AppUser    string // the receiving account (ToUserName)
	Kind       string
	Text       string // text messages: the content as sent
	Event      string // events: subscribe, SCAN, LOCATION, CLICK, ...
	EventKey   string // CLICK key, QR scene (without the "qrscene_" prefix), VIEW url
	Lat, Lng   float64
	Precision  float64 // LOCATION events: accuracy in metres; location messages: map scale
	Label      string  // location messages: the place name
	MediaID    string
	MsgID      int64 // 0 for events
	CreateTime int64 // unix seconds, as WeChat stamped it

	Mass MassResult // MASSSENDJOBFINISH events only
}

// MassResult is what a MASSSENDJOBFINISH event reports of a mass send.
type MassResult struct {
	MsgID       int64  // the msg_id the mass send was answered with (the event's MsgID)
	Status      string // "send success", "send fail", "err(30003)"…
	TotalCount  int64  // the users of the tag (or the list)
	FilterCount int64  // of them not sent to (over their monthly mass messages, no longer following…)
	SentCount   int64
	ErrorCount  int64
}

// DedupID is what makes a delivery unique: the MsgId, or for events FromUserName+CreateTime+Event,
// plus the EventKey, so that two different menu clicks within one second are not taken for a retry
// (a retry repeats the EventKey too).
func (m *Message) DedupID() string {
	if m.MsgID != 0 {
		return strconv.FormatInt(m.MsgID, 10)
	}
	return m.OpenID + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + m.Event + ":" + m.EventKey
}

// Time is CreateTime as a time.Time.
func (m *Message) Time() time.Time { return time.Unix(m.CreateTime, 0) }
