// Package auth is Synapse's identity and access layer: Discord users,
// dashboard sessions, personal API tokens, the OAuth2 client for "Login with
// Discord" and the casbin RBAC model whose policies live in Postgres.
package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Keys seal Discord tokens at rest and sign short-lived cookies. Both keys
// are derived from one server secret.
type Keys struct {
	seal cipher.AEAD
	sign []byte
}

// NewKeys derives the keys from secret (32 bytes or more recommended).
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) == 0 {
		return nil, errors.New("session secret is empty")
	}
	sealKey := hmacSum(secret, []byte("synapse seal v1"))
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return &Keys{seal: aead, sign: hmacSum(secret, []byte("synapse sign v1"))}, nil
}

func hmacSum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Seal encrypts plaintext (nil for an empty one).
func (k *Keys) Seal(plaintext string) []byte {
	if plaintext == "" {
		return nil
	}
	nonce := make([]byte, k.seal.NonceSize())
	_, _ = rand.Read(nonce)
	return k.seal.Seal(nonce, nonce, []byte(plaintext), nil)
}

// Open decrypts what Seal produced.
func (k *Keys) Open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	n := k.seal.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed value too short")
	}
	out, err := k.seal.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", fmt.Errorf("open sealed value: %w", err)
	}
	return string(out), nil
}

// SignValue returns value|expiry|mac for a cookie that must not be forged.
func (k *Keys) SignValue(value string, ttl time.Duration, now time.Time) string {
	payload := value + "|" + fmt.Sprint(now.Add(ttl).Unix())
	mac := base64.RawURLEncoding.EncodeToString(hmacSum(k.sign, []byte(payload)))
	return payload + "|" + mac
}

// VerifyValue checks a SignValue result and returns the value.
func (k *Keys) VerifyValue(signed string, now time.Time) (string, bool) {
	parts := strings.Split(signed, "|")
	if len(parts) != 3 {
		return "", false
	}
	want := hmacSum(k.sign, []byte(parts[0]+"|"+parts[1]))
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(want, got) {
		return "", false
	}
	var exp int64
	if _, err := fmt.Sscan(parts[1], &exp); err != nil || now.Unix() > exp {
		return "", false
	}
	return parts[0], true
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the sha256 of a secret, what the database keeps instead of it.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
