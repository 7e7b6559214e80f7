package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// runHealth checks a running daemon through its /healthz endpoint and
// exits 0 when it answers 200, 1 otherwise. It is the Docker HEALTHCHECK:
// the image has no shell or curl, only this binary.
func (m *Main) runHealth(ctx context.Context, args []string) error {
	var path, target string
	var timeout time.Duration
	fs := m.newFlagSet("health", &path)
	fs.StringVar(&target, "url", "", "health `URL` (default: /healthz on the configured listen address)")
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if target == "" {
		listen := m.getenv(envListen)
		if listen == "" {
			cfg, err := m.loadConfig(path)
			if err != nil {
				return err
			}
			listen = cfg.Server.Listen
		}
		u, err := healthURL(listen)
		if err != nil {
			return err
		}
		target = u
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return &usageError{fmt.Sprintf("health: %v", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", target, resp.Status)
	}
	fmt.Fprintf(m.Stdout, "ok: %s\n", target)
	return nil
}

// healthURL is /healthz on the listen address; a wildcard host (":8080",
// "0.0.0.0") is reached on loopback.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("health: invalid listen address %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
