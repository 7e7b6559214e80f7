package main

import (
	"context"
	"fmt"
	"reflect"

	"github.com/wiredesk/wiredesk/config"
)

// restartOnly names the settings a reload cannot change in a running
// daemon, with how to read each: the database file, the listening socket,
// the fetch pool and the near-duplicate index are built once at start.
var restartOnly = []struct {
	field string
	get   func(*config.Config) any
}{
	{"storage.path", func(c *config.Config) any { return c.Storage.Path }},
	{"storage.max_age", func(c *config.Config) any { return c.Storage.MaxAge }},
	{"server.listen", func(c *config.Config) any { return c.Server.Listen }},
	{"server.base_url", func(c *config.Config) any { return c.Server.BaseURL }},
	{"server.shutdown_timeout", func(c *config.Config) any { return c.Server.ShutdownTimeout }},
	{"poll", func(c *config.Config) any { return c.Poll }},
	{"server.public_url", func(c *config.Config) any { return c.Server.PublicURL }},
	{"dedupe", func(c *config.Config) any { return c.Dedupe }},
	{"publish", func(c *config.Config) any { return c.Publish }},
	{"websub", func(c *config.Config) any { return c.WebSub }},
	{"log", func(c *config.Config) any { return c.Log }},
}

// Reload applies a new, already validated config to the running daemon:
// sources and topics added, removed or changed take effect at once. The
// settings in restartOnly keep their running values; Reload logs each
// one that differs. Sources that left the config keep their stored
// items, as at start-up. On error the running sources and topics are
// left as they were, except that the store may already know new sources
// (harmless: a known source that is not configured is never polled).
func (d *Daemon) Reload(ctx context.Context, cfg *config.Config) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	old := d.Config
	for _, s := range restartOnly {
		if !reflect.DeepEqual(s.get(old), s.get(cfg)) {
			d.Logger.Warn("reload: setting changed; it takes effect after a restart", "field", s.field)
		}
	}
	if err := d.db.SyncSources(ctx, cfg.Sources); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := d.poller.SetSources(ctx, cfg.Sources); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.publisher.SetConfig(cfg.Topics, cfg.Sources)
	if d.pinger != nil {
		// A topic's sources or limit may have changed its entries.
		d.pinger.notify()
	}
	if d.sub != nil {
		d.kickSubscriptions() // unsubscribe the sources that left
	}
	d.metrics.SetConfig(cfg.Sources, cfg.Topics)
	if err := d.restoreLastSuccess(ctx); err != nil {
		d.Logger.Warn("reload: last successful polls not restored in the metrics", "error", err)
	}

	// The restart-only settings stay as the running daemon uses them.
	next := *cfg
	next.Storage, next.Server, next.Poll, next.Dedupe = old.Storage, old.Server, old.Poll, old.Dedupe
	next.Publish, next.WebSub, next.Log = old.Publish, old.WebSub, old.Log
	d.Config = &next
	d.Logger.Info("reloaded config", "path", cfg.Path,
		"sources", len(cfg.Sources), "topics", len(cfg.Topics))
	return nil
}
