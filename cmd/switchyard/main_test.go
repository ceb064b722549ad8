package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// syncBuffer is a goroutine-safe writer for run's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs "switchyard serve" and waits until /readyz answers 200.
// The returned stop cancels it and returns run's error.
func startServe(t *testing.T, environ map[string]string) (addr string, logs *syncBuffer, stop func() error) {
	t.Helper()
	logs = &syncBuffer{}
	addr, stop = startServeTo(t, environ, logs, logs)
	return addr, logs, stop
}

// startServeTo is startServe with separate stdout and stderr.
func startServeTo(t *testing.T, environ map[string]string, stdout, stderr *syncBuffer) (addr string, stop func() error) {
	t.Helper()
	addr = freeAddr(t)
	environ["SWITCHYARD_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	logs := stderr
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(environ), stdout, stderr) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited before it was ready: %v\n%s", err, logs)
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not ready in time:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = fmt.Errorf("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return addr, stop
}

func TestServeInEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	environ := map[string]string{"SWITCHYARD_DATA_DIR": dir, "SWITCHYARD_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sy.db")}
	addr, logs, stop := startServe(t, environ)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
	for _, name := range []string{"sy.db", "master.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s was not created: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	out := logs.String()
	for _, want := range []string{"generated a new master key", "built-in catalog seeded", "Switchyard is ready at http://" + addr, "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "one-time password") != 1 {
		t.Errorf("the first start should print the admin's one-time password once:\n%s", out)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if strings.Contains(out, strings.TrimSpace(string(key))) {
		t.Fatal("the output contains the master key")
	}

	// A restart keeps everything: same key, no second seeding, data intact.
	db, err := sql.Open("sqlite", filepath.Join(dir, "sy.db"))
	if err != nil {
		t.Fatal(err)
	}
	var templates, providers int
	db.QueryRow(`SELECT COUNT(*) FROM provider_templates`).Scan(&templates)
	db.QueryRow(`SELECT COUNT(*) FROM providers WHERE system`).Scan(&providers)
	if _, err := db.Exec(`UPDATE providers SET name = 'Kept across restarts' WHERE slug = 'openai'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if templates < 20 || providers < 10 {
		t.Fatalf("seeded %d templates and %d system providers", templates, providers)
	}
	_, logs2, stop2 := startServe(t, environ)
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	out2 := logs2.String()
	if strings.Contains(out2, "one-time password") || strings.Contains(out2, "generated a new master key") || strings.Contains(out2, "built-in catalog seeded") || strings.Contains(out2, "migration applied") {
		t.Fatalf("the restart redid first-start work:\n%s", out2)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if !bytes.Equal(key, key2) {
		t.Fatal("the master key changed across a restart")
	}
	db, _ = sql.Open("sqlite", filepath.Join(dir, "sy.db"))
	defer db.Close()
	var name string
	var t2 int
	db.QueryRow(`SELECT name FROM providers WHERE slug = 'openai'`).Scan(&name)
	db.QueryRow(`SELECT COUNT(*) FROM provider_templates`).Scan(&t2)
	if name != "Kept across restarts" || t2 != templates {
		t.Fatalf("after restart: name %q, %d templates (was %d)", name, t2, templates)
	}
}

func TestBadSettingsStopStartup(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		want    []string
		secret  string
	}{
		{"bad address", map[string]string{"SWITCHYARD_ADDR": "localhost"}, []string{"serve"}, []string{"SWITCHYARD_ADDR", "localhost"}, ""},
		{"bad database URL", map[string]string{"SWITCHYARD_DATABASE_URL": "mysql://db"}, []string{"serve"}, []string{"SWITCHYARD_DATABASE_URL"}, ""},
		{"bad master key", map[string]string{"SWITCHYARD_MASTER_KEY": "c2hvcnQta2V5LXNlY3JldA=="}, []string{"serve"}, []string{"SWITCHYARD_MASTER_KEY"}, "c2hvcnQta2V5LXNlY3JldA=="},
		{"several at once", map[string]string{"SWITCHYARD_ADDR": "nope", "SWITCHYARD_LOG_LEVEL": "loud"}, []string{"serve"}, []string{"SWITCHYARD_ADDR", "SWITCHYARD_LOG_LEVEL"}, ""},
		{"bad flag value", nil, []string{"serve", "-shutdown-timeout", "soon"}, []string{"shutdown-timeout", "soon"}, ""},
		{"unknown command", nil, []string{"launch"}, []string{"unknown command", "launch"}, ""},
		{"unknown migrate subcommand", map[string]string{"SWITCHYARD_DATABASE_URL": "sqlite::memory:"}, []string{"migrate", "sideways"}, []string{"sideways", "up, down or status"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.environ == nil {
				tt.environ = map[string]string{}
			}
			tt.environ["SWITCHYARD_DATA_DIR"] = t.TempDir()
			var out bytes.Buffer
			err := run(context.Background(), tt.args, env(tt.environ), &out, &out)
			if err == nil {
				t.Fatal("run succeeded")
			}
			msg := err.Error() + out.String()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("error shows the secret value: %q", msg)
			}
			if exitCode(err) != 2 && tt.name != "bad master key" {
				t.Errorf("exit code %d, want 2 for a usage or settings error", exitCode(err))
			}
		})
	}
}

func TestMigrateAndKeysCommands(t *testing.T) {
	dir := t.TempDir()
	environ := env(map[string]string{"SWITCHYARD_DATA_DIR": dir})
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, environ, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	pending := cli("migrate", "status")
	n := strings.Count(pending, "pending")
	if n < 2 || strings.Contains(pending, "applied") {
		t.Fatalf("status of an empty database:\n%s", pending)
	}
	if out := cli("migrate", "up"); !strings.Contains(out, fmt.Sprintf("applied %d migration", n)) {
		t.Fatalf("up: %s", out)
	}
	if out := cli("migrate", "status"); strings.Count(out, "applied") != n || strings.Contains(out, "pending") {
		t.Fatalf("status after up:\n%s", out)
	}
	if out := cli("migrate", "down"); !strings.Contains(out, "rolled back 1 migration") {
		t.Fatalf("down one step: %s", out)
	}
	if out := cli("migrate", "status"); strings.Count(out, "pending") != 1 {
		t.Fatalf("status after one step down:\n%s", out)
	}
	if out := cli("migrate", "down", "-to", "0"); !strings.Contains(out, fmt.Sprintf("rolled back %d", n-1)) {
		t.Fatalf("down to 0: %s", out)
	}
	if out := cli("migrate", "down"); !strings.Contains(out, "nothing to roll back") {
		t.Fatalf("down on an empty schema: %s", out)
	}
	cli("migrate", "up")
	status := cli("keys", "status")
	if !strings.Contains(status, "KEY") || !strings.Contains(status, "true") {
		t.Fatalf("keys status:\n%s", status)
	}
	rotated := cli("keys", "rotate")
	if !strings.Contains(rotated, "is now active") || strings.Count(rotated, "\n") < 4 {
		t.Fatalf("keys rotate:\n%s", rotated)
	}
	if v := cli("version"); !strings.HasPrefix(v, "switchyard ") {
		t.Fatalf("version = %q", v)
	}
}

func TestFirstAdminCanLogIn(t *testing.T) {
	t.Run("one-time password", func(t *testing.T) {
		var stdout, stderr syncBuffer
		addr, _ := startServeTo(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir()}, &stdout, &stderr)
		line := stdout.String()
		i := strings.Index(line, "(it is not shown again): ")
		if i < 0 {
			t.Fatalf("no password printed:\n%s", line)
		}
		password := strings.TrimSpace(strings.SplitN(line[i+len("(it is not shown again): "):], "\n", 2)[0])
		if strings.Contains(stderr.String(), password) {
			t.Fatal("the log contains the one-time password")
		}
		body := fmt.Sprintf(`{"username":"admin","password":%q}`, password)
		res, err := http.Post("http://"+addr+"/api/v1/session", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || len(res.Cookies()) != 1 || !res.Cookies()[0].HttpOnly {
			t.Fatalf("login answered %d with cookies %v", res.StatusCode, res.Cookies())
		}
	})
	t.Run("admin token", func(t *testing.T) {
		const token = "syt_bootstrap-token-for-this-test-0123456789"
		var stdout, stderr syncBuffer
		addr, _ := startServeTo(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADMIN_TOKEN": token}, &stdout, &stderr)
		if strings.Contains(stdout.String(), "one-time password") || strings.Contains(stdout.String()+stderr.String(), token) {
			t.Fatalf("output shows a password or the token:\n%s\n%s", stdout.String(), stderr.String())
		}
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/session", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("the admin token answered %d", res.StatusCode)
		}
		res, err = http.Get("http://" + addr + "/api/v1/providers")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("without a token: %d, want 401", res.StatusCode)
		}
	})
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	addr, logs, stop := startServe(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_SHUTDOWN_TIMEOUT": "10s"})
	// A request whose handler is running (reading a body that arrives
	// slowly) when shutdown starts must still get its answer.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"username":"admin","password":"not-the-password"}`
	head := fmt.Sprintf("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the handler is now waiting for the rest
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("serve stopped (%v) while a request was in flight", err)
	default:
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 401") {
		t.Fatalf("the in-flight request got %q", answer)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("no clean stop logged:\n%s", logs)
	}
}
