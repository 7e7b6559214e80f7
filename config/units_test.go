package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"720h", 720 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{" 90m ", 90 * time.Minute, false},
		{"0s", 0, false},
		{"", 0, true},
		{"30", 0, true},
		{"d", 0, true},
		{"-1d", 0, true},
		{"1.5d", 0, true},
		{"999999d", 0, true},
		{"100000d1000000h", 0, true},
		{"thirty days", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      any
		want    int64
		wantErr bool
	}{
		{"10MB", 10 << 20, false},
		{"10 mb", 10 << 20, false},
		{"512KB", 512 << 10, false},
		{"1GiB", 1 << 30, false},
		{"1.5K", 1536, false},
		{"100B", 100, false},
		{"65536", 65536, false},
		{int64(4096), 4096, false},
		{"", 0, true},
		{"MB", 0, true},
		{"10 parsecs", 0, true},
		{"1e30GB", 0, true},
		{"NaNMB", 0, true},
		{true, 0, true},
		{3.5, 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%v) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
