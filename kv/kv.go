// Package kv opens Yanzhen's Redis and names every key the project uses, with its lifetime, in one
// place (keys.go). Everything talks to Redis through go-redis v9; with no URL an embedded in-process
// Redis-compatible server (miniredis) stands in, so a bare `yanzhen serve` works with zero set-up.
package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Redis is the connected client plus whatever must be stopped with it.
type Redis struct {
	*redis.Client
	Embedded bool
	embedded *miniredis.Miniredis
}

// Close closes the client and stops the embedded server, if any.
func (r *Redis) Close() error {
	err := r.Client.Close()
	if r.embedded != nil {
		r.embedded.Close()
	}
	return err
}

// quietLogger keeps go-redis's internal logger (which writes every failed dial to stderr, a storm
// during an outage) quiet: the callers report Redis errors through slog themselves.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}

// Open connects to url, or starts an embedded server when url is empty. Timeouts are short on purpose:
// a webhook must answer within WeChat's 5 s even when Redis is gone, so a dead Redis has to fail fast.
func Open(ctx context.Context, url string) (*Redis, error) {
	redis.SetLogger(quietLogger{})
	var (
		opts *redis.Options
		mr   *miniredis.Miniredis
		err  error
	)
	if url == "" {
		mr = miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("redis: start embedded server: %w", err)
		}
		opts = &redis.Options{Addr: mr.Addr()}
	} else {
		opts, err = redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis: parse url: %w", err)
		}
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 1 * time.Second
	opts.WriteTimeout = 1 * time.Second
	opts.PoolTimeout = 1500 * time.Millisecond
	opts.MaxRetries = 1
	opts.DialerRetries = 1 // go-redis defaults to 5 dials 100 ms apart: too slow for a dead Redis
	opts.DialerRetryTimeout = 50 * time.Millisecond
	opts.PoolSize = 64
	opts.MinIdleConns = 4
	opts.DisableIdentity = true // CLIENT SETINFO is noise for miniredis and old servers
	c := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		if mr != nil {
			mr.Close()
		}
		return nil, fmt.Errorf("redis: connect: %w", err)
	}
	return &Redis{Client: c, Embedded: mr != nil, embedded: mr}, nil
}
