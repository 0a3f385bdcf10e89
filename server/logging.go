package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

type ctxKey struct{}

// WithRequestID returns ctx carrying a request id that every log line of the request shows.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// requestIDs are cheap and unique per process: a start-time prefix and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	return &requestIDs{prefix: strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "-"}
}

func (g *requestIDs) next() string { return g.prefix + strconv.FormatUint(g.n.Add(1), 36) }

// ctxHandler adds the request id of the context to every record.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(ctxKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}
func (h ctxHandler) WithAttrs(a []slog.Attr) slog.Handler { return ctxHandler{h.Handler.WithAttrs(a)} }
func (h ctxHandler) WithGroup(n string) slog.Handler      { return ctxHandler{h.Handler.WithGroup(n)} }

// NewLogger is the process's one logger: text on w at level (debug, info, warn, error), or JSON when
// format is "json". It also quiets the WeChat SDK, whose init() sets logrus to Debug on stdout and
// would log raw message XML (personal data, and 20–30 % of the webhook's throughput).
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	QuietSDK()
	return slog.New(ctxHandler{h})
}

// QuietSDK silences the SDK's logrus logger (warnings and errors still go to stderr).
func QuietSDK() {
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(os.Stderr)
}
