package unsafe

import (
	"net/netip"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

func TestSSRF(t *testing.T) {
	runRuleCases(t, NewUnsafeInput(), scan.Argument, []ruleCase{
		{"aws metadata", "http://169.254.169.254/latest/meta-data/", ruleSSRFMetadata, scan.Critical},
		{"gcp metadata", "http://metadata.google.internal/computeMetadata/v1/", ruleSSRFMetadata, scan.Critical},
		{"aws metadata ipv6", "http://[fd00:ec2::254]/latest/meta-data/", ruleSSRFMetadata, scan.Critical},
		{"metadata path on encoded link-local", "http://0xA9FEA9FE/latest/meta-data/", ruleSSRFMetadata, scan.Critical},
		{"loopback", "http://127.0.0.1:8080/admin", ruleSSRFInternal, scan.Medium},
		{"loopback admin port", "http://127.0.0.1:6379/CONFIG%20SET%20dir%20/tmp", ruleSSRFInternal, scan.High},
		{"localhost", "http://localhost/", ruleSSRFInternal, scan.Medium},
		{"decimal loopback", "http://2130706433/", ruleSSRFInternal, scan.High},
		{"hex short loopback", "http://0x7f.1/", ruleSSRFInternal, scan.High},
		{"octal loopback", "http://0177.0.0.1/", ruleSSRFInternal, scan.High},
		{"mapped ipv6 loopback", "http://[::ffff:127.0.0.1]:8080/", ruleSSRFInternal, scan.High},
		{"private", "http://10.0.0.5/internal", ruleSSRFInternal, scan.Medium},
		{"wildcard dns private", "http://192.168.1.1.nip.io/", ruleSSRFInternal, scan.High},
		{"loopback name service", "http://app.localtest.me/", ruleSSRFInternal, scan.High},
		{"unspecified", "http://0.0.0.0:8000/", ruleSSRFInternal, scan.High},
		{"userinfo trick", "http://example.com@127.0.0.1/", ruleSSRFInternal, scan.High},
		{"gopher", "gopher://127.0.0.1:6379/_INFO", ruleSSRFScheme, scan.High},
		{"file scheme", "file:///etc/passwd", ruleSSRFScheme, scan.High},
		{"dict", "dict://10.0.0.1:11211/stat", ruleSSRFScheme, scan.High},
		{"bare with port", "10.0.0.12:6379", ruleSSRFInternal, scan.Medium},
		{"bare metadata path", "curl 169.254.169.254/latest/meta-data/iam", ruleSSRFMetadata, scan.Critical},
		{"bare whole value", "192.168.0.10", ruleSSRFInternal, scan.Medium},
		{"bare assignment", "host=127.0.0.1", ruleSSRFInternal, scan.Medium},
		{"localhost with port", "connect to localhost:5432", ruleSSRFInternal, scan.Medium},
		{"bare admin port", "10.0.0.12:2375", ruleSSRFInternal, scan.High},

		{"public url", "https://example.com/docs?page=2", "", ""},
		{"public ip in prose", "I can't browse to your site, keep getting address 41.173.96.26 blocked error", "", ""},
		{"private ip in prose", "My router at 192.168.1.1 keeps dropping the connection", "", ""},
		{"ranges in prose", "Reject private ranges like 10.x.x.x and 192.168.x.x to prevent SSRF.", "", ""},
		{"version number", "upgrade to version 10.0.0.1 of the library", "", ""},
		{"internal name is low", "http://payments.svc.cluster.local/health", "", ""},
		{"database url", "DATABASE_URL=postgresql://user:password@localhost:5432/dbname", "", ""},
	})
	// In an output, an internal URL is data: a dev server's banner.
	runRuleCases(t, NewUnsafeInput(), scan.Output, []ruleCase{
		{"dev server banner", "Server listening on http://localhost:3000", "", ""},
		{"bare address in output", "peer 10.0.0.7:443 connected", "", ""},
	})
}

func TestParseIPv4Loose(t *testing.T) {
	for _, c := range []struct {
		in        string
		want      string
		canonical bool
		ok        bool
	}{
		{"127.0.0.1", "127.0.0.1", true, true},
		{"2130706433", "127.0.0.1", false, true},
		{"0x7f000001", "127.0.0.1", false, true},
		{"0x7f.1", "127.0.0.1", false, true},
		{"0177.0.0.01", "127.0.0.1", false, true},
		{"127.1", "127.0.0.1", false, true},
		{"10.1.2", "10.1.0.2", false, true},
		{"256.0.0.1", "", false, false},
		{"1.2.3.4.5", "", false, false},
		{"08.0.0.1", "", false, false},
		{"example.com", "", false, false},
		{"4294967296", "", false, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			a, canon, ok := parseIPv4Loose(c.in)
			if ok != c.ok || (ok && (a != netip.MustParseAddr(c.want) || canon != c.canonical)) {
				t.Errorf("parseIPv4Loose(%q) = %v, %v, %v; want %s, %v, %v", c.in, a, canon, ok, c.want, c.canonical, c.ok)
			}
		})
	}
}
