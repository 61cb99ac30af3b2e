package policy

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// locator finds where a value of the document was written, so that errors
// found after decoding still name a line and column.
type locator struct{ root *yaml.Node }

// at returns the node at path: string steps are mapping keys, int steps
// sequence indexes. It returns nil if the path is not in the document.
func (l locator) at(path ...any) *yaml.Node {
	n := l.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range path {
		if n == nil {
			return nil
		}
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					next = n.Content[i+1]
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return nil
			}
			n = n.Content[s]
		}
	}
	return n
}

// errorAt builds an Error placed at path (or at its nearest ancestor that
// the document spells out).
func (l locator) errorAt(msg string, path ...any) *Error {
	e := &Error{Path: pathString(path), Msg: msg}
	for k := len(path); k >= 0; k-- {
		if n := l.at(path[:k]...); n != nil {
			e.Line, e.Column = n.Line, n.Column
			break
		}
	}
	return e
}

func pathString(path []any) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	return b.String()
}
