package api

import (
	"net/http"
	"regexp"
	"strings"
)

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of the API, made from the same
// route table that the mux serves, so the two cannot drift apart.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{
			"summary":   rt.summary,
			"responses": map[string]any{"200": map[string]any{"description": "success"}, "default": map[string]any{"description": "problem+json (RFC 9457)"}},
		}
		if rt.perm != "" {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			op["x-warden-permission"] = string(rt.perm)
		}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Warden API", "version": "v1"},
		"paths":   paths,
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "wdn_<id>_<secret>"},
		}},
	}
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, s.OpenAPI())
}
