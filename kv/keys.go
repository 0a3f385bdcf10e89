package kv

import (
	"strconv"
	"time"
)

// Every Redis key Yanzhen uses is built here. Prefix "yz:" keeps them apart from anything else on a
// shared Redis.
const (
	// DedupTTL: how long a message's dedup record lives. WeChat retries a message 3 times within ~15 s,
	// but the record must also outlive the webhook's timestamp window (5 minutes, bot/wechat MaxSkew):
	// a captured request replayed inside that window is then answered from the record, with no second
	// effect. Value: "" while the first delivery runs, then "r:" + reply.
	DedupTTL = 6 * time.Minute
	// IdentityTTL: the openid → member cache; deleted on bind/unbind, so the TTL only bounds staleness
	// after changes made outside Yanzhen (e.g. by hand in the database).
	IdentityTTL = 10 * time.Minute
	// StateTTL: default life of a conversation step (a quiz, a survey) with no reply from the user.
	StateTTL = 30 * time.Minute
	// TokenLockTTL: how long one process may hold the lock while fetching a WeChat access token.
	TokenLockTTL = 10 * time.Second
)

// DedupKey: one WeChat delivery (MsgId, or FromUserName+CreateTime+Event for events), per channel.
func DedupKey(channel, id string) string { return "yz:dedup:" + channel + ":" + id }

// SignatureKey: the message a plaintext push's signature first carried (bot.Store.BindSignature),
// for DedupTTL.
func SignatureKey(channel, sig string) string { return "yz:sig:" + channel + ":" + sig }

// IdentityKey: the member bound to a WeChat openid on a channel ("oa" or "mp"); "-" caches "not bound".
func IdentityKey(channel, openID string) string { return "yz:id:" + channel + ":" + openID }

// StateKey: the pending conversation step of one user on one channel.
func StateKey(channel, openID string) string { return "yz:state:" + channel + ":" + openID }

// AccessTokenKey / AccessTokenLockKey: the shared WeChat access token of one app and the lock held by
// the one process that refreshes it.
func AccessTokenKey(appID string) string     { return "yz:wx:token:" + appID }
func AccessTokenLockKey(appID string) string { return "yz:wx:token:lock:" + appID }

// AccessTokenKey holds the raw token with TTL = its expires_in minus 5 minutes (WeChat hands out a
// new stable token in the last 5 minutes); AccessTokenLockKey lives TokenLockTTL and holds a random
// value so that only its holder deletes it. Both are set by bot/wechat/wxapi.

// WeChatSDKKey: a value the silenceper/wechat SDK caches through wxapi.RedisCache (JS-SDK tickets and
// the like), under the SDK's own key name, with the TTL the SDK asks for. The SDK's stable-token key
// maps to AccessTokenKey instead, so SDK objects and wxapi share one token.
func WeChatSDKKey(sdkKey string) string { return "yz:wx:sdk:" + sdkKey }

// Console keys.
const (
	// SessionIdleTTL: a console session unused this long ends (the Redis TTL; the session also carries
	// its own idle and absolute deadlines, checked against the server's clock).
	SessionIdleTTL = 4 * time.Hour
	// SessionMaxAge: a console session ends this long after login however busy it is.
	SessionMaxAge = 12 * time.Hour
	// LoginLockTTL: how long failed logins are counted, and how long an account or address stays locked
	// after too many.
	LoginLockTTL = 15 * time.Minute
	// QRLoginTTL: how long a login QR code waits to be scanned and confirmed.
	QRLoginTTL = 5 * time.Minute
)

// SessionKey: one console session, by the SHA-256 (hex) of its cookie; a hash {a: account id, c: CSRF
// token, t: created unix, i: last seen unix}.
func SessionKey(tokenHash string) string { return "yz:sess:" + tokenHash }

// LoginFailKey: failed logins of an account ("acct", lower-cased username) or an address ("ip") in the
// last LoginLockTTL; a counter.
func LoginFailKey(kind, who string) string { return "yz:loginfail:" + kind + ":" + who }

// QRLoginKey: a pending QR login (scene login:TOKEN); a hash {s: pending|scanned|confirmed, a: account
// id once confirmed}, TTL QRLoginTTL.
func QRLoginKey(token string) string { return "yz:qrlogin:" + token }

// BindQRTTL: how long the WeChat QR url of a bind code is kept. The QR code is permanent (scene
// bind:CODE), but the code is used once; a year covers reprinting a sheet while the code is unused
// and bounds the keys of codes used or replaced since.
const BindQRTTL = 365 * 24 * time.Hour

// BindQRKey: the url (the QR content) of the permanent WeChat QR code with scene bind:CODE, so that
// reprinting a bind sheet does not ask WeChat again; TTL BindQRTTL. Set by handlers/roster.
func BindQRKey(code string) string { return "yz:bindqr:" + code }

// AccountSessionsKey: the sessions (SessionKey hashes) of one console account, so that a password
// reset can end them all; a set whose TTL is renewed to SessionMaxAge with each new session.
func AccountSessionsKey(accountID uint) string {
	return "yz:acctsess:" + strconv.FormatUint(uint64(accountID), 10)
}

// Scheduler keys (package schedule: daily jobs that run once a day across every process).
const (
	// ScheduleDayTTL: how long one job's record for one day lives, counted from its last claim. Only
	// today's record decides whether a job runs, so it must outlive the day (25 h at most, with a
	// daylight-saving change); 48 h also leaves yesterday's record for a look by hand.
	ScheduleDayTTL = 48 * time.Hour
	// ScheduleJobTTL: a job's last-run summary, renewed at every run, so the summary of a job that is
	// no longer registered goes away after a month.
	ScheduleJobTTL = 30 * 24 * time.Hour
)

// ScheduleDayKey: one daily job on one day (YYYY-MM-DD in the scheduler's location): the claim that
// makes it run once across processes, a hash {s: run|fail|done, o: owner of the latest attempt,
// l: lease deadline (unix ms, while s=run), n: attempts started, r: no retry before (unix ms, s=fail),
// e: last error, t: finished (unix ms, s=done), d: duration ms}, TTL ScheduleDayTTL. Set by schedule.
func ScheduleDayKey(job, day string) string { return "yz:sched:" + job + ":" + day }

// ScheduleJobKey: the latest run of a daily job across days, for the status page; a hash {day: last
// day done, at: finished unix ms, dur: ms, err: latest error, errat: its unix ms}, TTL ScheduleJobTTL.
// Job names hold no ':', so it never collides with a ScheduleDayKey.
func ScheduleJobKey(job string) string { return "yz:sched:" + job }

// BoardTTL: how long a study leaderboard lives after its last update. A year's boards are rewritten on
// every credit of that year, so they outlive it by about a month, long enough to look back at the
// final standings; RebuildBoards writes them again from the ledger whenever needed.
const BoardTTL = 400 * 24 * time.Hour

// BoardKey: the study leaderboard of one org (a village, a town, a county) for one year: a sorted set
// of member ids scored by the points they earned that year in the org's subtree, TTL BoardTTL. Set by
// handlers/study. The braces are a Redis Cluster hash tag: a board and the temporary key it is rebuilt
// under (BoardKey + ":rebuild", then RENAMEd over it) live in one slot.
func BoardKey(year int, orgID uint) string {
	return "yz:board:{" + strconv.Itoa(year) + ":" + strconv.FormatUint(uint64(orgID), 10) + "}"
}

// BoardPattern matches every board of a year (for RebuildBoards to drop boards of orgs left empty).
func BoardPattern(year int) string { return "yz:board:{" + strconv.Itoa(year) + ":*" }

// Mini-program API keys (handlers/mp).
const (
	// MPSessionTTL: a mini-program session ends this long after its login, however busy it is (the
	// session also carries its deadline, checked against the server's clock). wx.login is silent, so
	// the mini-program simply logs in again when it gets 401.
	MPSessionTTL = 7 * 24 * time.Hour
	// MPLoginWindow: logins are counted per client address over this window (the rate limit).
	MPLoginWindow = time.Minute
	// BindFailTTL: how long wrong bind codes are counted, and how long a WeChat user, an address (or,
	// under attack, everyone) stays refused after too many (handlers/roster.BindGuard).
	BindFailTTL = 15 * time.Minute
)

// MPSessionKey: one mini-program session, by the SHA-256 (hex) of its token (yzm_…); a hash
// {o: mini-program openid, e: deadline unix}, TTL MPSessionTTL. WeChat's session_key is never kept.
func MPSessionKey(tokenHash string) string { return "yz:mpsess:" + tokenHash }

// MPLoginRateKey: logins from one client address in the current MPLoginWindow; a counter.
func MPLoginRateKey(ip string) string { return "yz:mplogin:" + ip }

// BindFailKey: wrong bind codes in the last BindFailTTL of a WeChat user (kind = channel "oa"/"mp", who
// = openid), a client address (kind "ip") or everyone (kind "all"); a counter.
func BindFailKey(kind, who string) string { return "yz:bindfail:" + kind + ":" + who }

// ChatWindowTTL: WeChat lets an official account answer a user through the customer-service API for
// 48 hours after his last message; LastMessageKey lives that long after it.
const ChatWindowTTL = 48 * time.Hour

// LastMessageKey: when a WeChat user last wrote to an account ("oa"), as unix seconds, TTL
// ChatWindowTTL; no key: not within the window. Written for every message a user sends (not for events:
// a menu click, a follow or a location report opens no 48-hour window) by handlers/study's
// LastMessages, which the evening reminder reads to choose a customer-service message or a template.
func LastMessageKey(channel, openID string) string { return "yz:lastmsg:" + channel + ":" + openID }

// Broadcast keys (handlers/broadcast). The database holds every broadcast and recipient; Redis only
// hands the work out, so losing these keys loses no recipient (a server re-queues from the database).
const (
	// BroadcastOwnerTTL: how long a server owns a broadcast (expands its audience and feeds its
	// recipients to the queue) without renewing; another server takes it over after that. The
	// deadline is also in the value, since the embedded Redis does not expire keys by itself.
	BroadcastOwnerTTL = 15 * time.Second
	// BroadcastQueueMaxLen: the queue stream is trimmed to about this many entries (each a batch of
	// recipients) as a safety net; the owners keep it far shorter.
	BroadcastQueueMaxLen = 100000
)

// BroadcastQueueKey: the stream of delivery batches (fields b: broadcast id, ids: delivery ids
// separated by ","), read by every server's workers through the consumer group BroadcastGroup;
// entries are deleted once done. No TTL (a stream with a group); it is kept short by the owners.
const BroadcastQueueKey = "yz:bc:queue"

// BroadcastGroup is the consumer group of BroadcastQueueKey.
const BroadcastGroup = "workers"

// BroadcastOwnerKey: which server owns broadcast id (a random value), TTL BroadcastOwnerTTL, renewed
// by its owner while it works.
func BroadcastOwnerKey(id uint) string {
	return "yz:bc:own:" + strconv.FormatUint(uint64(id), 10)
}

// BroadcastRateKey: the GCRA state of the shared WeChat send rate limit (the theoretical arrival time,
// unix µs), TTL the time until the limiter is idle again (at most a second or so). One for every
// process, so the limit holds across all of them.
const BroadcastRateKey = "yz:bc:rate"

// BroadcastTagRateKey: the GCRA state of the shared rate limit of WeChat's tag and mass-send API calls
// (mass broadcasts' batchtagging, sendall, tag deletion), apart from the message sends.
const BroadcastTagRateKey = "yz:bc:rate:tag"

// BroadcastCooldownKey: while it exists, no server sends broadcasts (WeChat said it is busy (-1) or a
// quota is used up (45009, 45011)); TTL the cool-down.
const BroadcastCooldownKey = "yz:bc:cooldown"

// BroadcastCooldownWhyKey: why the cool-down was set, as the console shows it (微信接口暂时连不上…);
// set with BroadcastCooldownKey and with the same TTL.
const BroadcastCooldownWhyKey = "yz:bc:cooldown:why"

// MeetingQRTTL bounds how long a meeting's check-in QR url is kept: the QR code is temporary (WeChat
// keeps one at most 30 days), made to last until an hour after the meeting's end.
const MeetingQRTTL = 30 * 24 * time.Hour

// MeetingQRKey: the url (the QR content) of the temporary WeChat QR code of a meeting's check-in
// (scene meet:ID), so that the meeting page and its projection do not ask WeChat again; TTL the QR
// code's own life (until an hour after the meeting's end, at most MeetingQRTTL). Set by handlers/meetings.
func MeetingQRKey(id uint) string { return "yz:meetqr:" + strconv.FormatUint(uint64(id), 10) }
