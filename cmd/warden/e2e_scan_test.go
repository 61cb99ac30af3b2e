package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ESecretNeverStored: an evaluate the built-in policy would allow,
// carrying an AWS key pair in its args, is denied with a reason naming the
// secret rule; afterwards no database file (WAL included), no log line and
// no API answer holds either key in plain, base64 or URL-encoded form.
func TestE2ESecretNeverStored(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, "--log-level", "debug")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/readyz", "")
	// A made-up key pair in AWS's formats (not AWS's documented example,
	// which secret scanners rightly ignore).
	const keyID = "AKIAZ7QWJ3KX5N2RT4VB"
	const secretKey = "q8Zt+3vJxP/2mRk9LwY4nH7cFb1aS6dE0uGiTo5V"
	body := `{"principal":{"id":"coder","type":"agent"},"action":{"type":"fs.read","resource":"file:///workspace/notes.txt"},` +
		`"args":{"comment":"use aws_access_key_id=` + keyID + ` and aws_secret_access_key=` + secretKey + `"}}`
	c := &http.Client{Timeout: 30 * time.Second}
	var answers [][]byte
	status, _, b, err := postEvaluate(c, srv.url, admin, body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("POST /v1/evaluate = %d %s, %v", status, b, err)
	}
	answers = append(answers, b)
	var a struct {
		Decision string `json:"decision"`
		Reasons  []struct {
			Code, Rule, Message string
		} `json:"reasons"`
		ReceiptID string `json:"receipt_id"`
		Findings  []struct {
			Category string `json:"category"`
			Path     string `json:"path"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Decision != "deny" || len(a.Reasons) == 0 || a.Reasons[0].Code != "scan" || !strings.Contains(a.Reasons[0].Message, "secret.aws") {
		t.Fatalf("answer = %s, want deny whose first reason names the AWS secret rule", b)
	}
	if len(a.Findings) == 0 || a.Findings[0].Path != "/args/comment" {
		t.Fatalf("answer findings = %+v, want one at /args/comment", a.Findings)
	}
	// The same request again through POST /v1/scan, then read everything
	// the API serves about it.
	for _, path := range []string{"/v1/receipts/" + a.ReceiptID, "/v1/log/entries", "/v1/receipts"} {
		answers = append(answers, get(t, c, srv.url+path, admin))
	}
	req, _ := http.NewRequest(http.MethodPost, srv.url+"/v1/scan", strings.NewReader(`{"text":"aws_secret_access_key=`+secretKey+`"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(sb), `"secret.`) {
		t.Fatalf("POST /v1/scan = %d %s, want a secret finding", resp.StatusCode, sb)
	}
	answers = append(answers, sb)
	// The database files while the server runs (the WAL holds the recent
	// pages then) and again after it stopped.
	running := map[string][]byte{}
	readDir := func(into map[string][]byte, suffix string) {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("data directory: %v %v", files, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			into[filepath.Base(f)+suffix] = b
		}
	}
	readDir(running, " (running)")
	if _, ok := running["warden.db-wal (running)"]; !ok {
		t.Fatalf("no WAL file while the server runs: %v", len(running))
	}
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("warden serve after SIGTERM = %s", r)
	}

	forms := func(v string) []string {
		out := []string{v, url.QueryEscape(v), url.PathEscape(v)}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			// Each of the three alignments of the value in a longer
			// base64 text, minus the edge characters that depend on
			// neighbours.
			for pad := 0; pad < 3; pad++ {
				e := enc.EncodeToString(append(bytes.Repeat([]byte{'x'}, pad), v...))
				skip := (pad*4 + 2) / 3
				out = append(out, strings.TrimRight(e[skip:len(e)-4], "="))
			}
		}
		return out
	}
	var haystacks = map[string][]byte{"server stdout": []byte(srv.stdout.String()), "server stderr": []byte(srv.stderr.String())}
	for i, b := range answers {
		haystacks["answer "+string(rune('0'+i))] = b
	}
	for name, b := range running {
		haystacks[name] = b
	}
	readDir(haystacks, " (stopped)")
	t.Logf("searched %d places", len(haystacks))
	for name, h := range haystacks {
		for _, v := range []string{keyID, secretKey} {
			for _, form := range forms(v) {
				if bytes.Contains(h, []byte(form)) {
					t.Errorf("%s holds a key (form %q)", name, form)
				}
			}
		}
	}
}

func get(t *testing.T, c *http.Client, u, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
	return b
}
