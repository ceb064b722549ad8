package tokenauth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/tokenauth"
)

const awsKeyID = "AKIDEXAMPLE12345"

var signTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sigv4Cred(session bool, config map[string]string) switchyard.Credential {
	s := secrets("access_key_id", awsKeyID, "secret_access_key", awsSecretCanary)
	if session {
		s["session_token"] = switchyard.NewSecret(sessionCanary)
	}
	return switchyard.Credential{Method: switchyard.AuthAWSSigV4, Config: config, Secrets: s}
}

func signedRequest(t *testing.T, a provider.Authenticator, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost,
		"https://bedrock-runtime.eu-west-3.amazonaws.com/model/amazon.titan-embed-text-v2/invoke?b=2&a=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := a.Apply(context.Background(), req, body); err != nil {
		t.Fatalf("Apply: %s", safe(err))
	}
	return req
}

// authParts splits "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
func authParts(t *testing.T, h string) (credential, signedHeaders, signature string) {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		t.Fatalf("Authorization does not start with AWS4-HMAC-SHA256")
	}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	return credential, signedHeaders, signature
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// independentSignature computes the SigV4 signature of req from the AWS
// specification, without the SDK, over the headers the request says it
// signed.
func independentSignature(req *http.Request, body []byte, signedHeaders, secret, region, service string) string {
	var canonHeaders strings.Builder
	for _, name := range strings.Split(signedHeaders, ";") {
		var v string
		switch name {
		case "host":
			v = req.URL.Host
		case "content-length":
			v = strconv.FormatInt(req.ContentLength, 10)
		default:
			v = strings.Join(req.Header.Values(name), ",")
		}
		canonHeaders.WriteString(name + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	q := req.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var canonQuery []string
	for _, k := range keys {
		for _, v := range q[k] {
			canonQuery = append(canonQuery, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	canonical := strings.Join([]string{req.Method, req.URL.EscapedPath(), strings.Join(canonQuery, "&"),
		canonHeaders.String(), signedHeaders, sha256Hex(body)}, "\n")
	amzDate := req.Header.Get("X-Amz-Date")
	scope := amzDate[:8] + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	key := hmacSHA256([]byte("AWS4"+secret), amzDate[:8])
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func TestSigV4(t *testing.T) {
	body := []byte(`{"inputText":"hello"}`)
	a := mustFactory(t, sigv4Cred(true, map[string]string{"region": "eu-west-3"}),
		provider.AuthOptions{Now: func() time.Time { return signTime }})
	req := signedRequest(t, a, body)

	if got := req.Header.Get("X-Amz-Date"); got != "20260102T030405Z" {
		t.Errorf("X-Amz-Date %q", got)
	}
	if req.Header.Get("X-Amz-Security-Token") != sessionCanary {
		t.Error("X-Amz-Security-Token is not the session token")
	}
	if h := req.Header.Get("X-Amz-Content-Sha256"); h != "" && h != sha256Hex(body) {
		t.Errorf("X-Amz-Content-Sha256 %q is not the body's hash", h)
	}
	cred, signed, sig := authParts(t, req.Header.Get("Authorization"))
	if cred != awsKeyID+"/20260102/eu-west-3/bedrock/aws4_request" {
		t.Errorf("credential %q", cred)
	}
	for _, h := range []string{"host", "x-amz-date", "x-amz-security-token", "content-type"} {
		if !strings.Contains(";"+signed+";", ";"+h+";") {
			t.Errorf("signed headers %q lack %s", signed, h)
		}
	}
	if want := independentSignature(req, body, signed, awsSecretCanary, "eu-west-3", "bedrock"); sig != want {
		t.Errorf("signature %s, want %s (computed from the specification)", sig, want)
	}

	// The SDK, given the same inputs on a clone, agrees.
	clone := req.Clone(context.Background())
	clone.Header.Del("Authorization")
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: awsKeyID,
		SecretAccessKey: awsSecretCanary, SessionToken: sessionCanary}, clone, sha256Hex(body), "bedrock", "eu-west-3", signTime)
	if err != nil {
		t.Fatal(err)
	}
	if clone.Header.Get("Authorization") != req.Header.Get("Authorization") {
		t.Error("re-signing a clone gives another Authorization")
	}

	// Another body, another signature; the same body, the same one.
	other := signedRequest(t, a, []byte(`{"inputText":"hellO"}`))
	if _, _, s := authParts(t, other.Header.Get("Authorization")); s == sig {
		t.Error("a changed body kept the signature")
	}
	again := signedRequest(t, a, body)
	if _, _, s := authParts(t, again.Header.Get("Authorization")); s != sig {
		t.Error("the same request signed twice gave two signatures")
	}

	if a.Invalidate() {
		t.Error("Invalidate reported a token for SigV4")
	}
}

func TestSigV4EmptyBodyServiceAndNoSession(t *testing.T) {
	a := mustFactory(t, sigv4Cred(false, map[string]string{"region": "us-east-1", "service": "execute-api"}),
		provider.AuthOptions{Now: func() time.Time { return signTime }})
	req, err := http.NewRequest(http.MethodGet, "https://api.example/models", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(context.Background(), req, nil); err != nil {
		t.Fatalf("Apply: %s", safe(err))
	}
	if _, ok := req.Header["X-Amz-Security-Token"]; ok {
		t.Error("X-Amz-Security-Token set without a session token")
	}
	cred, signed, sig := authParts(t, req.Header.Get("Authorization"))
	if !strings.HasSuffix(cred, "/us-east-1/execute-api/aws4_request") {
		t.Errorf("credential %q", cred)
	}
	if want := independentSignature(req, nil, signed, awsSecretCanary, "us-east-1", "execute-api"); sig != want {
		t.Errorf("signature %s, want %s (over the empty body's hash)", sig, want)
	}
}

func TestSigV4ConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cred switchyard.Credential
		want string
	}{
		{"no region", sigv4Cred(true, nil), "region"},
		{"bad region", sigv4Cred(true, map[string]string{"region": "us-east-1/../x"}), "region"},
		{"bad service", sigv4Cred(true, map[string]string{"region": "us-east-1", "service": "Bed Rock"}), "service"},
		{"no key id", func() switchyard.Credential {
			c := sigv4Cred(true, map[string]string{"region": "us-east-1"})
			delete(c.Secrets, "access_key_id")
			return c
		}(), "access_key_id"},
		{"no secret key", func() switchyard.Credential {
			c := sigv4Cred(true, map[string]string{"region": "us-east-1"})
			delete(c.Secrets, "secret_access_key")
			return c
		}(), "secret_access_key"},
		{"sealed session token", func() switchyard.Credential {
			c := sigv4Cred(true, map[string]string{"region": "us-east-1"})
			c.Secrets["session_token"] = switchyard.SealedSecret("", errWrongKey)
			return c
		}(), "session_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokenauth.Factory(tc.cred, provider.AuthOptions{})
			e := providerError(t, err, provider.CodeAuth)
			if !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q should name %q", safe(err), tc.want)
			}
		})
	}
}

// Through the provider client, the upstream can verify what it receives.
func TestSigV4ThroughClient(t *testing.T) {
	var verified bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.URL.Host = r.Host
		_, signed, sig := authParts(t, r.Header.Get("Authorization"))
		verified = sig == independentSignature(r, body, signed, awsSecretCanary, "us-west-2", "bedrock")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer up.Close()
	a := mustFactory(t, sigv4Cred(true, map[string]string{"region": "us-west-2"}), provider.AuthOptions{})
	c := &provider.Client{HTTP: guarded(t, nil), Auth: a, BaseURL: up.URL,
		Header: http.Header{"Anthropic-Version": {"bedrock-2023-05-31"}}}
	if err := c.JSON(context.Background(), http.MethodPost, "/model/m/invoke", map[string]any{"max_tokens": 8}, nil); err != nil {
		t.Fatalf("JSON: %s", safe(err))
	}
	if !verified {
		t.Error("the upstream could not verify the signature of what it received")
	}
}
