package unsafe

import "strings"

// exfilHosts are services whose purpose is to receive arbitrary requests
// or text from anyone and show it to whoever holds the link: request
// catchers, out-of-band interaction servers used by scanners, tunnels to
// a private machine, anonymous paste and file drops, disposable mail. An
// agent has seldom a good reason to send to one; an attacker always
// does. A fact list of registrable domains; a host matches when it is
// one of them or a subdomain of one.
var exfilHosts = map[string]bool{
	// request catchers
	"webhook.site": true, "requestbin.com": true, "requestbin.net": true, "pipedream.net": true,
	"requestcatcher.com": true, "beeceptor.com": true, "hookbin.com": true, "postb.in": true, "ptsv2.com": true,
	"ptsv3.com": true, "requestrepo.com": true, "mockbin.org": true, "webhook.cool": true, "typedwebhook.tools": true,
	"requestinspector.com": true, "httpdump.app": true,
	// out-of-band interaction (interactsh, Burp Collaborator, DNS loggers)
	"interact.sh": true, "oast.pro": true, "oast.live": true, "oast.site": true, "oast.online": true, "oast.fun": true,
	"oast.me": true, "burpcollaborator.net": true, "oastify.com": true, "canarytokens.com": true, "dnslog.cn": true,
	"ceye.io": true, "dnslog.link": true, "eyes.sh": true, "xss.ht": true, "bxss.me": true,
	// tunnels to private machines
	"ngrok.io": true, "ngrok-free.app": true, "ngrok.app": true, "ngrok-free.dev": true, "ngrok.dev": true,
	"loca.lt": true, "localtunnel.me": true, "serveo.net": true, "trycloudflare.com": true, "localhost.run": true,
	"lhr.life": true, "pagekite.me": true, "tunnelmole.net": true, "bore.pub": true, "telebit.io": true,
	// paste and file drops
	"pastebin.com": true, "paste.ee": true, "hastebin.com": true, "ghostbin.com": true, "dpaste.com": true,
	"dpaste.org": true, "termbin.com": true, "ix.io": true, "sprunge.us": true, "transfer.sh": true, "file.io": true,
	"0x0.st": true, "temp.sh": true, "bashupload.com": true, "oshi.at": true, "paste.rs": true, "rentry.co": true,
	"controlc.com": true, "privatebin.net": true, "justpaste.it": true, "anonfiles.com": true, "gofile.io": true,
	"catbox.moe": true, "litterbox.catbox.moe": true, "filebin.net": true,
	// disposable mail
	"temp-mail.org": true, "mailinator.com": true, "guerrillamail.com": true, "sharklasers.com": true,
	"10minutemail.com": true, "yopmail.com": true, "maildrop.cc": true, "getnada.com": true, "dispostable.com": true,
	"trashmail.com": true, "tempmail.com": true, "mohmal.com": true, "emailondeck.com": true, "throwawaymail.com": true,
}

// exfilPaths are endpoints on general hosts that behave like a catcher:
// chat webhooks and bot APIs that post anything to a channel the sender
// controls.
var exfilPaths = []struct{ host, path string }{
	{"discord.com", "/api/webhooks/"},
	{"discordapp.com", "/api/webhooks/"},
	{"api.telegram.org", "/bot"},
}

// exfilDestination reports whether host (any case) belongs to a known
// collection service, reading suffixes label by label without allocating.
func exfilDestination(host string) bool {
	if len(host) == 0 || len(host) > 253 {
		return false
	}
	var buf [253]byte
	for i := 0; i < len(host); i++ {
		buf[i] = lower(host[i])
	}
	h := buf[:len(host)]
	if h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	// Listed domains have at most three labels: look at the last three.
	labels := 0
	for i := len(h) - 1; i >= 0 && labels < 3; i-- {
		if i == 0 || h[i-1] == '.' {
			labels++
			if exfilHosts[string(h[i:])] {
				return true
			}
		}
	}
	return false
}

// exfilPath reports a catcher endpoint on a general host.
func exfilPath(host, path string) bool {
	for _, p := range exfilPaths {
		if strings.EqualFold(host, p.host) && hasPrefixFold(path, 0, p.path) {
			return true
		}
	}
	return false
}
