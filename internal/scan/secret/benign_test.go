package secret_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// benignText builds about size bytes of text with no secret in it, the
// same for the same seed: code, logs, JSON, YAML and prose of the kind
// an agent's tool calls carry, dense in the words the secret rules key on
// (token, key, password, secret, auth) and in ids, hashes and base64
// that look random but are not credentials.
func benignText(size int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	uuid := func() string { return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12) }
	blob := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	word := func() string {
		ws := []string{"order", "customer", "invoice", "payment", "session", "account", "report", "cluster", "request",
			"response", "profile", "billing", "shipment", "ledger", "policy", "approval", "tenant", "webhook", "queue", "cache"}
		return ws[r.IntN(len(ws))]
	}
	templates := []func() string{
		func() string {
			return fmt.Sprintf("func (s *Server) validateToken(ctx context.Context, tok string) error {\n\tif tok == \"\" {\n\t\treturn ErrMissingToken\n\t}\n\tclaims, err := s.verifier.Verify(ctx, tok)\n\tif err != nil {\n\t\treturn fmt.Errorf(\"verify token for %s: %%w\", err)\n\t}\n\ts.cache.Set(claims.Subject, claims)\n\treturn nil\n}\n", word())
		},
		func() string {
			return fmt.Sprintf("cacheKey := fmt.Sprintf(\"%s:%%d:profile\", userID)\nfor key, value := range headers {\n\treq.Header.Set(key, value)\n}\ntoken := r.Header.Get(\"Authorization\")\nsecretName := fmt.Sprintf(\"%%s-credentials\", app)\n", word())
		},
		func() string {
			return "def get_password_hash(password: str) -> str:\n    return pwd_context.hash(password)\n\n\ndef verify_password(plain_password, hashed_password):\n    return pwd_context.verify(plain_password, hashed_password)\n\napi_key = os.environ[\"API_KEY\"]\ntoken = settings.GITHUB_TOKEN\n"
		},
		func() string {
			return fmt.Sprintf("const apiKey = process.env.STRIPE_API_KEY;\nconst client = new Client({ apiKey, timeout: %d });\nexport async function refreshToken(session) {\n  const { accessToken, refreshToken } = await client.auth.refresh(session.refreshToken);\n  return { accessToken, refreshToken };\n}\n", 1000+r.IntN(9000))
		},
		func() string {
			return fmt.Sprintf("2026-11-25T10:%02d:%02d.%03dZ INFO request completed method=GET path=/api/v1/%ss/%d status=200 duration_ms=%d request_id=%s trace_id=%s\n",
				r.IntN(60), r.IntN(60), r.IntN(1000), word(), r.IntN(100000), r.IntN(900), uuid(), hex(32))
		},
		func() string {
			return fmt.Sprintf("level=warn msg=\"token refresh scheduled\" expires_in=%ds key_id=%s kid=%s auth_method=oauth2 user=%s@example.com\n",
				r.IntN(3600), hex(16), hex(8), word())
		},
		func() string {
			return fmt.Sprintf("[%s] DEBUG cache hit key=%s:%d:session ttl=%d hits=%d\ncommit %s\nAuthor: Dev Example <dev@example.com>\n\n    Fix token expiry check in %s handler\n\n",
				uuid(), word(), r.IntN(10000), r.IntN(600), r.IntN(100), hex(40), word())
		},
		func() string {
			return fmt.Sprintf("{\"id\": \"chatcmpl-%s\", \"object\": \"chat.completion\", \"created\": %d, \"model\": \"gpt-4o\", \"usage\": {\"prompt_tokens\": %d, \"completion_tokens\": %d, \"total_tokens\": %d}, \"max_tokens\": 4096}\n",
				hex(24), 1700000000+r.IntN(100000000), r.IntN(4000), r.IntN(1000), r.IntN(5000))
		},
		func() string {
			return fmt.Sprintf("{\"event\":\"user.login\",\"user_id\":%d,\"ip\":\"10.%d.%d.%d\",\"session_id\":\"%s\",\"success\":true,\"auth_provider\":\"okta\",\"next_page_token\":\"%s\"}\n",
				r.IntN(1000000), r.IntN(256), r.IntN(256), r.IntN(256), uuid(), blob(24))
		},
		func() string {
			return fmt.Sprintf("{\"name\": \"%s-api\", \"version\": \"1.%d.%d\", \"dependencies\": {\"jsonwebtoken\": \"^9.0.%d\", \"passport\": \"^0.7.0\"}, \"integrity\": \"sha512-%s\"}\n",
				word(), r.IntN(20), r.IntN(20), r.IntN(5), blob(48))
		},
		func() string {
			return "Rotate your API keys regularly and store them in a secrets manager rather than in source code. " +
				"The access token expires after one hour; use the refresh token to obtain a new one. " +
				"Passwords must be at least twelve characters long and must not repeat any of the last five passwords.\n"
		},
		func() string {
			return fmt.Sprintf("The %s service reads its configuration at start-up, validates every field and refuses to start when a required key is missing. "+
				"Keys are rotated every %d days by the platform team, and the audit log records who changed what and when.\n", word(), 30+r.IntN(60))
		},
		func() string {
			return fmt.Sprintf("spec:\n  replicas: %d\n  template:\n    spec:\n      containers:\n        - name: %s\n          image: registry.example.com/%s@sha256:%s\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db-credentials\n                  key: password\n",
				1+r.IntN(5), word(), word(), hex(64))
		},
		func() string {
			return fmt.Sprintf("| %s | %d | %s | %s |\n|---|---|---|---|\n| total | %d | ok | %s |\n", word(), r.IntN(1000), uuid(), hex(12), r.IntN(100000), word())
		},
		func() string {
			return fmt.Sprintf("<img src=\"data:image/png;base64,%s\" alt=\"%s chart\"/>\n", blob(96), word())
		},
	}
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(templates[r.IntN(len(templates))]())
	}
	return b.String()[:size]
}
