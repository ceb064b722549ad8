package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/control"
)

type ctxKey int

const (
	keyActor ctxKey = iota
	keyRequestID
	keyRemoteAddr
)

// SessionCookie is the dashboard session cookie's name.
const SessionCookie = "sy_session"

func actorFrom(ctx context.Context) *control.Actor {
	a, _ := ctx.Value(keyActor).(*control.Actor)
	return a
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func remoteAddrFrom(ctx context.Context) string {
	a, _ := ctx.Value(keyRemoteAddr).(string)
	return a
}

// clientAddr is the peer's IP address. Proxies are not trusted: behind a
// reverse proxy every request comes from the proxy.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requestContext gives each request an id (echoed as X-Request-Id) and
// records the client address, and logs the request when it ends.
func requestContext(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			var b [8]byte
			_, _ = rand.Read(b[:])
			id := hex.EncodeToString(b[:])
			w.Header().Set("X-Request-Id", id)
			ctx := context.WithValue(r.Context(), keyRequestID, id)
			ctx = context.WithValue(ctx, keyRemoteAddr, clientAddr(r))
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r.WithContext(ctx))
			// The query is left out: it may hold a cursor or a search, never
			// needed to tell requests apart here.
			log.LogAttrs(ctx, slog.LevelDebug, "request", slog.String("id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, so that streaming handlers behind this wrapper
// send each chunk at once.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// recoverer turns a panic into a 500 problem and logs the stack.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic serving request", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					writeProblem(w, r, log, errorf(switchyard.EINTERNAL, "panic"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets headers every API answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// noStore keeps API answers (which may carry a new key or token) out of
// every cache.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// importPath takes whole configuration documents, which may be larger
// than any other request.
const importPath = "/api/v1/import"

// limitBody refuses bodies over max bytes (importMax for imports) with 413.
func limitBody(max, importMax int64, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			max := max
			if r.URL.Path == importPath && importMax > max {
				max = importMax
			}
			if r.ContentLength > max {
				writeProblem(w, r, log, tooLarge(max))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

func tooLarge(max int64) error {
	return &switchyard.Error{Code: codeTooLarge, Message: "the request body is larger than the limit of " +
		humanBytes(max) + " (SWITCHYARD_MAX_BODY_BYTES)"}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

// isMaxBytes reports whether err comes from a body over the limit.
func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// requireJSON refuses a request body that is not JSON with 415.
func requireJSON(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hasBody(r) {
				mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
					writeProblem(w, r, log, &switchyard.Error{Code: codeUnsupportedMedia,
						Message: "send the body as JSON with Content-Type: application/json"})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// isPublic lists the operations that need no authentication.
func isPublic(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/api/v1/session"
}

// authenticate resolves the bearer token or the session cookie to an actor;
// without one, every operation but login answers 401 before doing anything.
func authenticate(ctl *control.Service, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			addr := remoteAddrFrom(r.Context())
			var actor *control.Actor
			var err error
			if h := r.Header.Get("Authorization"); h != "" {
				scheme, token, ok := strings.Cut(h, " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
					err = errorf(switchyard.EUNAUTHORIZED, "the Authorization header must be \"Bearer <API token>\"")
				} else {
					actor, err = ctl.AuthenticateToken(r.Context(), strings.TrimSpace(token), addr)
				}
			} else if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
				actor, err = ctl.AuthenticateSession(r.Context(), c.Value, addr)
			}
			if err == nil && actor == nil && !isPublic(r) {
				err = errorf(switchyard.EUNAUTHORIZED, "authentication required: send \"Authorization: Bearer <API token>\" or log in with POST /api/v1/session")
			}
			if err != nil && !isPublic(r) {
				writeProblem(w, r, log, err)
				return
			}
			if actor != nil {
				r = r.WithContext(context.WithValue(r.Context(), keyActor, actor))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// csrf requires the session's CSRF token on unsafe requests authenticated by
// the session cookie. Bearer-token requests need none: browsers do not
// attach bearer tokens by themselves.
func csrf(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := actorFrom(r.Context())
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				if a != nil && a.Session != nil && !auth.EqualTokens(r.Header.Get("X-CSRF-Token"), a.Session.CSRFToken) {
					writeProblem(w, r, log, errorf(switchyard.EFORBIDDEN,
						"a request made with the session cookie must send the session's CSRF token as X-CSRF-Token (GET /api/v1/session returns it)"))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
