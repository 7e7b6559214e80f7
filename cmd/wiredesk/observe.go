package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/wiredesk/wiredesk/config"
)

// Environment variables that override the config, for containers: the
// image sets them, and `docker run -e` changes them without a new file.
const (
	envConfig = "WIREDESK_CONFIG" // default of --config
	envListen = "WIREDESK_LISTEN" // replaces [server] listen
	envDB     = "WIREDESK_DB"     // replaces [storage] path
)

// getenv reads the environment through Main, so tests set it per run.
func (m *Main) getenv(key string) string {
	if m.Getenv != nil {
		return m.Getenv(key)
	}
	return os.Getenv(key)
}

// applyEnv overrides cfg with WIREDESK_LISTEN and WIREDESK_DB. A base URL
// that was derived from the listen address follows the new address.
func (m *Main) applyEnv(cfg *config.Config) error {
	if listen := m.getenv(envListen); listen != "" {
		if _, _, err := net.SplitHostPort(listen); err != nil {
			return fmt.Errorf("%s: invalid address %q: want host:port", envListen, listen)
		}
		if cfg.Server.BaseURL == config.DefaultBaseURL(cfg.Server.Listen) {
			cfg.Server.BaseURL = config.DefaultBaseURL(listen)
		}
		cfg.Server.Listen = listen
	}
	if db := m.getenv(envDB); db != "" {
		abs, err := filepath.Abs(db)
		if err != nil {
			return fmt.Errorf("%s: %w", envDB, err)
		}
		cfg.Storage.Path = abs
	}
	return nil
}

// configureLogs switches the logger to the [log] settings: level, and
// format "text" or "json" ("" meaning JSON unless standard error is a
// terminal, where people read it).
func (m *Main) configureLogs(l config.Log) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		level = slog.LevelInfo // validated by config; unreachable in practice
	}
	m.logLevel.Set(level)
	m.Logger = newLogger(m.Stderr, l.Format, &m.logLevel)
	slog.SetDefault(m.Logger)
}

func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" || (format == "" && !isTerminal(w)) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
