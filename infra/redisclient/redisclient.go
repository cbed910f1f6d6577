// Package redisclient opens the go-redis client from a URL.
package redisclient

import (
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Open parses a redis:// or rediss:// URL; the connection is made on first use.
func Open(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	return redis.NewClient(opt), nil
}
