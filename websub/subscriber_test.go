package websub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"testing"
)

func TestCheckSignature(t *testing.T) {
	body := []byte(`<feed>pushed</feed>`)
	sign := func(method string, h func() hash.Hash, key string) string {
		m := hmac.New(h, []byte(key))
		m.Write(body)
		return method + "=" + hex.EncodeToString(m.Sum(nil))
	}
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"sha1", sign("sha1", sha1.New, "k"), true},
		{"sha256", sign("sha256", sha256.New, "k"), true},
		{"sha384", sign("sha384", sha512.New384, "k"), true},
		{"sha512 upper-case method", sign("SHA512", sha512.New, "k"), true},
		{"wrong key", sign("sha256", sha256.New, "other"), false},
		{"method and hash disagree", sign("sha1", sha256.New, "k"), false},
		{"md5", "md5=00", false},
		{"missing", "", false},
		{"not hex", "sha256=zz", false},
	} {
		if err := CheckSignature(tc.header, "k", body); (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
