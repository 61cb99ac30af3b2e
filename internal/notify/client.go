package notify

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Timeouts of the HTTP client below the per-attempt limit.
const (
	dialTimeout      = 5 * time.Second
	tlsTimeout       = 5 * time.Second
	idleConnTimeout  = 90 * time.Second
	maxHeaderBytes   = 16 << 10
	maxRedirects     = 3
	maxIdlePerHost   = 2
	maxIdleConnsPool = 32
)

// errAddressRefused is a connection the dispatcher will not make.
var errAddressRefused = errors.New("receiver address is not allowed (link-local, multicast or unspecified, or private while private addresses are blocked)")

// newClient returns the client of every delivery: timeouts at every stage,
// TLS 1.2 or later, bounded response headers, addresses checked at dial
// time (after DNS, so a name cannot smuggle one in) and redirects followed
// only to the same scheme and host, and only when they keep the POST body
// (307, 308).
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return checkAddress(address, cfg.BlockPrivate)
		},
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		TLSHandshakeTimeout:    tlsTimeout,
		ResponseHeaderTimeout:  cfg.AttemptTimeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        idleConnTimeout,
		MaxIdleConns:           maxIdleConnsPool,
		MaxIdleConnsPerHost:    maxIdlePerHost,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect, Timeout: cfg.AttemptTimeout}
}

// checkRedirect follows a redirect only to the scheme and host of the
// receiver's URL and only with 307 or 308, which repeat the POST with its
// body. Anything else stops at the redirect, which fails the delivery.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	switch {
	case len(via) > maxRedirects,
		req.URL.Scheme != first.Scheme || req.URL.Host != first.Host,
		req.Response == nil,
		req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect:
		return http.ErrUseLastResponse
	}
	return nil
}

// checkAddress refuses link-local addresses (cloud metadata services),
// multicast and unspecified ones always, and with blockPrivate loopback and
// private ones too. Through a proxy, it checks the proxy's address.
func checkAddress(address string, blockPrivate bool) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errAddressRefused
	}
	ip := ap.Addr().Unmap()
	switch {
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast(), ip.IsUnspecified():
		return errAddressRefused
	case blockPrivate && (ip.IsLoopback() || ip.IsPrivate() || sharedAddress.Contains(ip)):
		return errAddressRefused
	}
	return nil
}

// sharedAddress is the carrier-grade NAT range (RFC 6598), private in
// effect though IsPrivate leaves it out.
var sharedAddress = netip.MustParsePrefix("100.64.0.0/10")
