package switchyard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
)

func TestUserValidate(t *testing.T) {
	tests := []struct {
		name string
		user switchyard.User
		want []problem
	}{
		{"admin", switchyard.User{Username: "ada", Email: "ada@example.com", Role: switchyard.RoleAdmin}, nil},
		{"user without email", switchyard.User{Username: "bob.smith_2-x", Role: switchyard.RoleUser}, nil},
		{"single character username", switchyard.User{Username: "a", Role: switchyard.RoleUser}, nil},
		{"username 64 characters", switchyard.User{Username: strings.Repeat("a", 64), Role: switchyard.RoleUser}, nil},
		{"username 65 characters", switchyard.User{Username: strings.Repeat("a", 65), Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"username required", switchyard.User{Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"username upper case", switchyard.User{Username: "Ada", Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"username leading dot", switchyard.User{Username: ".ada", Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"username with space", switchyard.User{Username: "ada l", Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"username with at sign", switchyard.User{Username: "ada@example.com", Role: switchyard.RoleUser}, []problem{{"username", "invalid_username"}}},
		{"email without domain", switchyard.User{Username: "ada", Email: "ada", Role: switchyard.RoleUser}, []problem{{"email", "invalid_email"}}},
		{"email with display name", switchyard.User{Username: "ada", Email: "Ada <ada@example.com>", Role: switchyard.RoleUser}, []problem{{"email", "invalid_email"}}},
		{"email with surrounding space", switchyard.User{Username: "ada", Email: " ada@example.com", Role: switchyard.RoleUser}, []problem{{"email", "invalid_email"}}},
		{"role required", switchyard.User{Username: "ada"}, []problem{{"role", "invalid_enum"}}},
		{"role unknown", switchyard.User{Username: "ada", Role: "root"}, []problem{{"role", "invalid_enum"}}},
		{"role case matters", switchyard.User{Username: "ada", Role: "Admin"}, []problem{{"role", "invalid_enum"}}},
		{"every problem at once", switchyard.User{Username: "-", Email: "nope", Role: "owner"},
			[]problem{{"username", "invalid_username"}, {"email", "invalid_email"}, {"role", "invalid_enum"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, tt.user.Validate(), tt.want...)
		})
	}
}

func TestAPITokenActive(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	tests := []struct {
		name    string
		expires *time.Time
		revoked *time.Time
		want    bool
	}{
		{"no expiry", nil, nil, true},
		{"future expiry", at(time.Hour), nil, true},
		{"expires in a nanosecond", at(time.Nanosecond), nil, true},
		{"expires now", at(0), nil, false},
		{"expired", at(-time.Hour), nil, false},
		{"revoked", nil, at(-time.Minute), false},
		{"revoked with future expiry", at(time.Hour), at(-time.Minute), false},
		{"revocation recorded in the future still counts", nil, at(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := &switchyard.APIToken{ExpiresAt: tt.expires, RevokedAt: tt.revoked}
			if got := tok.Active(now); got != tt.want {
				t.Errorf("Active() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAPITokenValidate(t *testing.T) {
	tests := []struct {
		name string
		tok  switchyard.APIToken
		want []problem
	}{
		{"valid", switchyard.APIToken{Name: "deploy bot", UserID: "u1", Hash: "h"}, nil},
		{"name required", switchyard.APIToken{UserID: "u1", Hash: "h"}, []problem{{"name", "required"}}},
		{"name too long", switchyard.APIToken{Name: strings.Repeat("t", 201), UserID: "u1", Hash: "h"}, []problem{{"name", "too_long"}}},
		{"name whitespace", switchyard.APIToken{Name: "bot ", UserID: "u1", Hash: "h"}, []problem{{"name", "whitespace"}}},
		{"user required", switchyard.APIToken{Name: "bot", Hash: "h"}, []problem{{"user_id", "required"}}},
		{"hash required", switchyard.APIToken{Name: "bot", UserID: "u1"}, []problem{{"hash", "required"}}},
		{"every problem at once", switchyard.APIToken{}, []problem{{"name", "required"}, {"user_id", "required"}, {"hash", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, tt.tok.Validate(), tt.want...)
		})
	}
}
