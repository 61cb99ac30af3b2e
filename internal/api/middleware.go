package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxRoute
	ctxPrincipal
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

func withRoute(r *http.Request, name string) *http.Request {
	if h, ok := r.Context().Value(ctxRoute).(*string); ok {
		*h = name
	}
	return r
}

func routeName(r *http.Request) string {
	if h, ok := r.Context().Value(ctxRoute).(*string); ok && *h != "" {
		return *h
	}
	return "unmatched"
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// base applies what every request gets: a request id, security headers, a
// body limit, panic recovery, an access log line and metrics.
func (s *Server) base(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			id = newRequestID()
		}
		route := ""
		ctx := context.WithValue(r.Context(), ctxRequestID, id)
		ctx = context.WithValue(ctx, ctxRoute, &route)
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic in handler", "route", routeName(r), "panic", v)
				if sw.status == 0 {
					s.writeProblem(sw, r, probInternal)
				}
			}
			took := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.cfg.Metrics.observeRequest(routeName(r), status, took)
			// Only the method, route pattern and sizes are logged: the path
			// may carry ids but never a key, and bodies are never logged.
			s.log.LogAttrs(ctx, slog.LevelInfo, "http",
				slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("route", routeName(r)), slog.Int("status", status),
				slog.Int64("bytes", sw.size), slog.Duration("took", took))
		}()
		next.ServeHTTP(sw, r)
	})
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errBad(name + " must be a non-negative integer")
	}
	return n, nil
}

// queryLimit parses the limit of a listing: def when absent, else from 1
// to max.
func queryLimit(r *http.Request, def, max int64) (int, error) {
	n, err := queryInt(r, "limit", def)
	if err != nil || n == 0 || n > max {
		return 0, errBad(fmt.Sprintf("limit must be between 1 and %d", max))
	}
	return int(n), nil
}

// orEmpty answers an absent list as [] rather than null.
func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
