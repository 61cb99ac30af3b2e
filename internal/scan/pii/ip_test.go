package pii

import (
	"net/netip"
	"testing"
)

func TestValidIPAddress(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"93.184.216.34", true},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"999.1.1.1", false},
		{"256.1.1.1", false},
		{"1.2.3", false},
		{"1.2.3.4.5", false},
		{"01.2.3.4", false},
		{"1.2.3.4 ", false},
		{"2606:4700:4700::1111", true},
		{"::ffff:93.184.216.34", true},
		{"fe80::1%eth0", false},
		{"2606:4700::4700::1111", false},
		{"12:30:45", false},
		{"00:1a:2b:3c:4d:5e", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidIPAddress(tt.in); got != tt.want {
				t.Errorf("ValidIPAddress(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDetectIPs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "public", text: "client 93.184.216.34 connected", want: []string{"93.184.216.34"}},
		{name: "with port", text: "93.184.216.34:8443", want: []string{"93.184.216.34"}},
		{name: "with prefix length", text: "allow 93.184.216.0/24;", want: []string{"93.184.216.0"}},
		{name: "sentence end", text: "blocked from 93.184.216.34.", want: []string{"93.184.216.34"}},
		{name: "range", text: "93.184.216.1-93.184.216.9", want: []string{"93.184.216.1", "93.184.216.9"}},
		{name: "between pipes", text: "|36.106.174.11|", want: []string{"36.106.174.11"}},
		{name: "octet out of range", text: "at 999.1.1.1 now", want: nil},
		{name: "leading zero", text: "at 093.184.216.34", want: nil},
		{name: "version prefix", text: "release v1.2.3.4", want: nil},
		{name: "version word", text: "version 10.2.3.4", want: nil},
		{name: "version key", text: `"version": "10.2.3.4"`, want: nil},
		{name: "section", text: "see section 5.2.3.21", want: nil},
		{name: "oid constant", text: `szOID_COMMON_NAME = "2.5.4.3"`, want: nil},
		{name: "longer dotted run", text: "oid 1.3.6.1.4.1.311", want: nil},
		{name: "five parts", text: "at 93.184.216.34.5", want: nil},
		{name: "pre-release suffix", text: "at 93.184.216.34-beta", want: nil},
		{name: "loopback", text: "listen 127.0.0.1:80", want: nil},
		{name: "unspecified", text: "bind 0.0.0.0", want: nil},
		{name: "netmask", text: "mask 255.255.255.0", want: nil},
		{name: "multicast", text: "group 239.1.2.3", want: nil},
		{name: "ipv6", text: "resolver 2606:4700:4700::1111 up", want: []string{"2606:4700:4700::1111"}},
		{name: "ipv6 full", text: "2001:4860:4860:0:0:0:0:8888", want: []string{"2001:4860:4860:0:0:0:0:8888"}},
		{name: "ipv6 bracketed with port", text: "[2606:4700:4700::1111]:53", want: []string{"2606:4700:4700::1111"}},
		{name: "ipv6 after a key", text: "ip:2606:4700:4700::1111", want: []string{"2606:4700:4700::1111"}},
		{name: "ipv4-mapped", text: "peer ::ffff:93.184.216.34", want: []string{"::ffff:93.184.216.34"}},
		{name: "ipv6 loopback", text: "[::1]:8080", want: nil},
		{name: "ipv6 two groups", text: "fe80::1", want: nil},
		{name: "c++ scope", text: "std::vector<int> a::b", want: nil},
		{name: "python slice", text: "x[1::2]", want: nil},
		{name: "no digits", text: "dead::beef:cafe", want: nil},
		{name: "mac-like", text: "01:23:45:67:89:ab:cd:ef", want: nil},
		{name: "time", text: "at 12:30:45", want: nil},
		{name: "hex token", text: "trace 7d7fa1b1a6ccfc4abd4ec81b4a49f61c", want: nil},
	}
	d := New(Options{Types: []string{IPAddress}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := values(d, tt.text); !equal(got, tt.want) {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestIPConfidence(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"93.184.216.34", confIPPublic},
		{"10.1.2.3", confIPInternal},
		{"172.16.0.1", confIPInternal},
		{"192.168.1.10", confIPInternal},
		{"100.64.1.1", confIPInternal},
		{"169.254.1.1", confIPInternal},
		{"203.0.113.7", confIPInternal},
		{"2001:db8::1", confIPInternal},
		{"fd00::1", confIPInternal},
		{"127.0.0.1", 0},
		{"0.0.0.0", 0},
		{"224.0.0.1", 0},
		{"255.255.255.255", 0},
		{"::1", 0},
		{"ff02::1", 0},
		{"2606:4700:4700::1111", confIPPublic},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ipConfidence(netip.MustParseAddr(tt.in)); got != tt.want {
				t.Errorf("ipConfidence(%s) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	d := New(Options{})
	ms := detect(d, "host 5.9.12.8")
	if len(ms) != 1 || ms[0].Confidence != confIPVersion {
		t.Errorf("Detect(5.9.12.8) = %+v, want one finding at the version-like confidence %v", ms, confIPVersion)
	}
}
