package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// boardURL checks a board address given on the command line and completes
// it: "ws://…" and "wss://…" are taken as they are (an empty path becomes
// "/"); a bare "HOST" becomes ws://HOST:8266/ and "HOST:PORT" becomes
// ws://HOST:PORT/ (8266 is WebREPL's port, docs/protocol/webrepl.md §1.1).
// Anything else, such as http://…, is refused here rather than in the first
// cell or transfer.
func boardURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("empty board address (want ws://HOST:8266/, HOST or HOST:PORT)")
	}
	bare := !strings.Contains(raw, "://")
	if bare {
		if strings.ContainsAny(raw, "/?#@") {
			return "", fmt.Errorf("board address %q: want ws://HOST:PORT/, wss://HOST:PORT/, HOST or HOST:PORT", raw)
		}
		host, port := raw, "8266"
		if h, p, err := net.SplitHostPort(raw); err == nil {
			host, port = h, p
		}
		raw = "ws://" + net.JoinHostPort(host, port) + "/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("board address %q: %v", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("board address %q: WebREPL is a WebSocket, the scheme must be ws:// or wss://, not %s://", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("board address %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("board address %q: bad port %q", raw, p)
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}
