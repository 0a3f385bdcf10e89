package wxapi

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yanzhen/yanzhen/kv"
)

// RedisCache is the SDK's cache.Cache and cache.ContextCache on go-redis v9 (the SDK's own Redis
// cache is go-redis v8). Use it for SDK objects that cache things (JS-SDK tickets); give them a
// TokenSource as their access-token handle.
//
// Keys go into kv's namespace (kv.WeChatSDKKey); the SDK's stable access-token key maps to
// kv.AccessTokenKey, the key TokenSource uses. Values are stored as strings and Get returns a string
// (nil when missing), which is what the SDK asserts.
//
// The interfaces are met structurally: importing the SDK's cache package would link go-redis v8 and
// gomemcache into the binary.
type RedisCache struct {
	rdb     redis.UniversalClient
	timeout time.Duration // for the methods without a context
}

// NewRedisCache wraps rdb.
func NewRedisCache(rdb redis.UniversalClient) *RedisCache {
	return &RedisCache{rdb: rdb, timeout: 2 * time.Second}
}

// stableTokenMarker is what the SDK puts between its prefix and the appid for stable tokens
// ("gowechat_officialaccount__stable_access_token_APPID").
const stableTokenMarker = "_stable_access_token_"

func cacheKey(sdkKey string) string {
	if i := strings.LastIndex(sdkKey, stableTokenMarker); i >= 0 {
		if appID := sdkKey[i+len(stableTokenMarker):]; appID != "" {
			return kv.AccessTokenKey(appID)
		}
	}
	return kv.WeChatSDKKey(sdkKey)
}

func (c *RedisCache) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// Get returns the value as a string, or nil when it is missing or Redis fails.
func (c *RedisCache) Get(key string) interface{} {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext is Get with a context.
func (c *RedisCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.rdb.Get(ctx, cacheKey(key)).Result()
	if err != nil {
		return nil
	}
	return v
}

// Set stores val: strings and []byte as they are, anything else as JSON.
func (c *RedisCache) Set(key string, val interface{}, timeout time.Duration) error {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext is Set with a context.
func (c *RedisCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	var v any
	switch x := val.(type) {
	case string, []byte:
		v = x
	default:
		b, err := json.Marshal(val)
		if err != nil {
			return err
		}
		v = b
	}
	return c.rdb.Set(ctx, cacheKey(key), v, timeout).Err()
}

// IsExist reports whether key is set.
func (c *RedisCache) IsExist(key string) bool {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext is IsExist with a context.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, cacheKey(key)).Result()
	return err == nil && n > 0
}

// Delete removes key.
func (c *RedisCache) Delete(key string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext is Delete with a context.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, cacheKey(key)).Err()
}
