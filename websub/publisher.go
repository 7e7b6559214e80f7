// Package websub speaks W3C WebSub (https://www.w3.org/TR/websub/) for
// wiredesk: the publisher's ping to a hub when a topic feed changes, and
// the subscriber side (subscribe, verify, receive signed deliveries,
// renew) for sources whose feeds advertise a hub.
//
// It knows nothing of SQL or feed parsing: subscriptions are kept through
// the small Store interface, and deliveries are handed to an Ingester.
package websub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxHubAnswer bounds what is read of a hub's answer.
const maxHubAnswer = 64 << 10

// Ping tells hub that the documents at urls changed (the de facto
// "publish" notification most hubs accept: a form POST of hub.mode=publish
// and one hub.url per document). Any 2xx is success.
func Ping(ctx context.Context, client *http.Client, hub string, urls []string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": urls}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("ping hub %s: %w", hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("ping hub %s: %w", hub, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxHubAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("ping hub %s: %s: %s", hub, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	return nil
}
