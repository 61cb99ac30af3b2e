package evidence

import (
	"html"
	"strings"
	"testing"
)

// domNode is an element or a text node of a parsed page (tag "" for
// text). The parser reads what a browser serializes (Chromium's
// --dump-dom) and what html/template writes: well-formed tags, quoted
// attributes, escaped text. It is a test helper, not an HTML parser: it
// keeps the module free of golang.org/x/net, whose newest version would
// raise golang.org/x/crypto for the whole build.
type domNode struct {
	tag      string
	attrs    map[string]string
	text     string
	children []*domNode
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// rawTextElements hold text up to their end tag, markup included.
var rawTextElements = map[string]bool{"script": true, "style": true, "textarea": true, "title": true}

// parseDOM parses a page into a tree under a root node with tag "#root".
func parseDOM(t *testing.T, page string) *domNode {
	t.Helper()
	root := &domNode{tag: "#root"}
	stack := []*domNode{root}
	top := func() *domNode { return stack[len(stack)-1] }
	s := page
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "<!--"):
			end := strings.Index(s, "-->")
			if end < 0 {
				t.Fatalf("parse page: unterminated comment")
			}
			s = s[end+3:]
		case strings.HasPrefix(s, "<!"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				t.Fatalf("parse page: unterminated declaration")
			}
			s = s[end+1:]
		case strings.HasPrefix(s, "</"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				t.Fatalf("parse page: unterminated end tag")
			}
			name := strings.ToLower(strings.TrimSpace(s[2:end]))
			s = s[end+1:]
			for i := len(stack) - 1; i > 0; i-- {
				if stack[i].tag == name {
					stack = stack[:i]
					break
				}
			}
		case len(s) > 1 && s[0] == '<' && isASCIILetter(s[1]):
			n, rest, selfClosing := parseStartTag(t, s)
			s = rest
			top().children = append(top().children, n)
			if voidElements[n.tag] || selfClosing {
				continue
			}
			if rawTextElements[n.tag] {
				end := strings.Index(strings.ToLower(s), "</"+n.tag)
				if end < 0 {
					t.Fatalf("parse page: unterminated <%s>", n.tag)
				}
				n.children = append(n.children, &domNode{text: html.UnescapeString(s[:end])})
				s = s[end:]
				if gt := strings.IndexByte(s, '>'); gt >= 0 {
					s = s[gt+1:]
				}
				continue
			}
			stack = append(stack, n)
		default:
			end := strings.IndexByte(s[1:], '<')
			if end < 0 {
				end = len(s)
			} else {
				end++
			}
			top().children = append(top().children, &domNode{text: html.UnescapeString(s[:end])})
			s = s[end:]
		}
	}
	return root
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// parseStartTag parses "<name attr="v" ...>" at the start of s.
func parseStartTag(t *testing.T, s string) (*domNode, string, bool) {
	t.Helper()
	i := 1
	for i < len(s) && !strings.ContainsRune(" \t\n\r\f/>", rune(s[i])) {
		i++
	}
	n := &domNode{tag: strings.ToLower(s[1:i]), attrs: map[string]string{}}
	for {
		for i < len(s) && strings.ContainsRune(" \t\n\r\f", rune(s[i])) {
			i++
		}
		if i >= len(s) {
			t.Fatalf("parse page: unterminated <%s>", n.tag)
		}
		switch {
		case s[i] == '>':
			return n, s[i+1:], false
		case strings.HasPrefix(s[i:], "/>"):
			return n, s[i+2:], true
		case s[i] == '/':
			i++
			continue
		}
		start := i
		for i < len(s) && !strings.ContainsRune(" \t\n\r\f=/>", rune(s[i])) {
			i++
		}
		name := strings.ToLower(s[start:i])
		value := ""
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					t.Fatalf("parse page: unterminated attribute %s of <%s>", name, n.tag)
				}
				value = s[i+1 : i+1+end]
				i += end + 2
			} else {
				vs := i
				for i < len(s) && !strings.ContainsRune(" \t\n\r\f>", rune(s[i])) {
					i++
				}
				value = s[vs:i]
			}
		}
		n.attrs[name] = html.UnescapeString(value)
	}
}

// find returns every element under n (n included) that match accepts,
// in document order.
func (n *domNode) find(match func(*domNode) bool) []*domNode {
	var out []*domNode
	var walk func(*domNode)
	walk = func(m *domNode) {
		if m.tag != "" && match(m) {
			out = append(out, m)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n *domNode) byTag(tag string) []*domNode {
	return n.find(func(m *domNode) bool { return m.tag == tag })
}

// byID returns the one element with id, failing the test otherwise.
func (n *domNode) byID(t *testing.T, id string) *domNode {
	t.Helper()
	found := n.find(func(m *domNode) bool { return m.attrs["id"] == id })
	if len(found) != 1 {
		t.Fatalf("elements with id %q = %d, want 1", id, len(found))
	}
	return found[0]
}

// textContent is the node's text, whitespace collapsed.
func (n *domNode) textContent() string {
	var b strings.Builder
	var walk func(*domNode)
	walk = func(m *domNode) {
		if m.tag == "" {
			b.WriteString(m.text)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
