package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration accepts Go durations ("90m", "1h30m") and a leading
// whole number of days ("30d", "1d12h"), since retention is naturally
// said in days and time.ParseDuration has no unit for them.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	bad := fmt.Errorf("invalid duration %q: want a Go duration like \"90m\" or days like \"30d\"", s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > maxDays {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		if s = s[i+1:]; s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	if d > math.MaxInt64-days {
		return 0, bad
	}
	return days + d, nil
}

// maxDays keeps a day count well inside time.Duration's ~292 years.
const maxDays = 100000

// Size units are powers of 1024: "10MB" is 10 MiB, which is what a body
// cap means in practice. The IEC spellings (KiB, MiB, GiB) are accepted too.
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// parseSize reads a byte count written as a TOML integer or as a string
// with an optional unit ("10MB", "512 KB", "1.5GB", "65536").
func parseSize(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case string:
		return parseSizeString(v)
	default:
		return 0, fmt.Errorf("wrong type: want a size like \"10MB\" or an integer, got %s", tomlValueType(v))
	}
}

func parseSizeString(s string) (int64, error) {
	num := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid size %q: want a number with B, KB, MB or GB", s)
	}
	n := f * mult
	if n >= math.MaxInt64 || n <= math.MinInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(n), nil
}

// tomlValueType names a decoded value's TOML type for error messages.
func tomlValueType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case float64:
		return "float"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "a date or time"
}
