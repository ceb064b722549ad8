package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/config"
)

// settingNames are the environment variables switchyard reads.
func settingNames() []string {
	var out []string
	for _, s := range config.Settings() {
		out = append(out, s.Env)
	}
	return out
}

var envRE = regexp.MustCompile(`SWITCHYARD_[A-Z_]+`)

// checkSettings fails for a SWITCHYARD_ variable that is not a setting: a
// typo or a renamed setting would otherwise be ignored silently.
func checkSettings(t *testing.T, file string, text []byte) {
	t.Helper()
	for _, name := range envRE.FindAllString(string(text), -1) {
		if !slices.Contains(settingNames(), name) {
			t.Errorf("%s uses %s, which is not a setting (see docs/configuration.md)", file, name)
		}
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDockerfile(t *testing.T) {
	b := read(t, "Dockerfile")
	checkSettings(t, "Dockerfile", b)
	var froms []string
	user, entry := "", ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 {
		t.Fatalf("the image is not built in stages: %v", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.HasSuffix(final, ":nonroot") {
		t.Errorf("final stage %s: want distroless static, nonroot", final)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: the image must run as a non-root user", user)
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") || !strings.Contains(string(b), "-X main.version=") {
		t.Error("the binary must be static and carry its version")
	}
	if entry != `["/switchyard"]` {
		t.Errorf("ENTRYPOINT %s", entry)
	}
}

func TestSystemdUnit(t *testing.T) {
	b := read(t, "systemd/switchyard.service")
	checkSettings(t, "switchyard.service", b)
	keys := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not key=value in [%s]: %q", section, line)
		}
		keys[section+"."+k] = append(keys[section+"."+k], v)
	}
	for k, want := range map[string]string{
		"Service.ExecStart": "/usr/local/bin/switchyard serve", "Service.DynamicUser": "yes", "Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem": "strict", "Service.StateDirectory": "switchyard", "Service.Restart": "on-failure",
		"Service.KillSignal": "SIGTERM", "Install.WantedBy": "multi-user.target", "Service.CapabilityBoundingSet": "",
	} {
		if got := keys[k]; len(got) == 0 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !slices.Contains(keys["Service.Environment"], "SWITCHYARD_DATA_DIR=/var/lib/switchyard") {
		t.Error("the data directory must be the unit's state directory")
	}
}

// manifests reads every Kubernetes object in the Kustomize base.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(read(t, "kubernetes/kustomization.yaml"), &kust); err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	for _, r := range kust.Resources {
		b := read(t, filepath.Join("kubernetes", r))
		checkSettings(t, r, b)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o map[string]any
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			kind, _ := o["kind"].(string)
			if kind == "" || o["apiVersion"] == nil {
				t.Fatalf("%s: an object without kind or apiVersion", r)
			}
			objs[kind] = o
		}
	}
	return objs
}

// get walks a decoded YAML object along keys (and list indexes).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesBase(t *testing.T) {
	objs := manifests(t)
	for _, k := range []string{"Deployment", "Service", "Secret", "PodDisruptionBudget"} {
		if objs[k] == nil {
			t.Fatalf("the base has no %s", k)
		}
	}
	d := objs["Deployment"]
	c := get(d, "spec", "template", "spec", "containers", 0)
	if get(c, "readinessProbe", "httpGet", "path") != "/readyz" || get(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Error("probes: readiness must be /readyz and liveness /healthz")
	}
	for _, r := range []string{"requests", "limits"} {
		if get(c, "resources", r, "memory") == nil {
			t.Errorf("container has no memory %s", r)
		}
	}
	if get(d, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true ||
		get(c, "securityContext", "allowPrivilegeEscalation") != false || get(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the pod must run as non-root, without privilege escalation, on a read-only root file system")
	}
	if img, _ := get(c, "image").(string); strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
		t.Errorf("image %q: pin a version", img)
	}
	// The Secret holds the master key and is what the container reads.
	if get(c, "envFrom", 0, "secretRef", "name") != get(objs["Secret"], "metadata", "name") ||
		get(objs["Secret"], "stringData", "SWITCHYARD_MASTER_KEY") == nil {
		t.Error("the container must take SWITCHYARD_MASTER_KEY from the Secret")
	}
	// Service and PodDisruptionBudget select the Deployment's pods.
	labels, _ := get(d, "spec", "template", "metadata", "labels").(map[string]any)
	for _, sel := range []any{get(objs["Service"], "spec", "selector"), get(objs["PodDisruptionBudget"], "spec", "selector", "matchLabels")} {
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			t.Fatal("an empty selector")
		}
		for k, v := range m {
			if labels[k] != v {
				t.Errorf("selector %s=%v does not match the pods' labels %v", k, v, labels)
			}
		}
	}
	grace, _ := get(d, "spec", "template", "spec", "terminationGracePeriodSeconds").(int)
	if grace <= 20 {
		t.Errorf("terminationGracePeriodSeconds %d must exceed SWITCHYARD_SHUTDOWN_TIMEOUT (20s)", grace)
	}
}
