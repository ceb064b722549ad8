package switchyard_test

import (
	"math"
	"testing"

	"github.com/switchyard/switchyard"
)

func validConnection() *switchyard.Connection {
	return &switchyard.Connection{
		Name:         "ci pipeline",
		OwnerID:      "u1",
		ProviderID:   "p1",
		KeyHash:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		KeyPrefix:    "sy-abc",
		RateLimitRPM: 60,
		BudgetUSD:    25.5,
		Enabled:      true,
	}
}

func TestConnectionValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *switchyard.Connection)
		want   []problem
	}{
		{"valid new style", func(*switchyard.Connection) {}, nil},
		{"valid old style", func(c *switchyard.Connection) { c.ProviderID, c.ProviderType = "", "openai" }, nil},
		{"valid models only", func(c *switchyard.Connection) {
			c.ProviderID, c.Models = "", []string{"gpt-4o-mini", "claude-sonnet-4"}
		}, nil},
		{"provider and models", func(c *switchyard.Connection) { c.Models = []string{"gpt-4o"} }, nil},
		{"name required", func(c *switchyard.Connection) { c.Name = "" }, []problem{{"name", "required"}}},
		{"name control character", func(c *switchyard.Connection) { c.Name = "ci\x00" }, []problem{{"name", "control_character"}}},
		{"owner required", func(c *switchyard.Connection) { c.OwnerID = "" }, []problem{{"owner_id", "required"}}},
		{"provider id and type are exclusive", func(c *switchyard.Connection) { c.ProviderType = "openai" },
			[]problem{{"provider_type", "exclusive"}}},
		{"provider, type or models required", func(c *switchyard.Connection) { c.ProviderID = "" },
			[]problem{{"provider_id", "required"}}},
		{"empty models list is not enough", func(c *switchyard.Connection) { c.ProviderID, c.Models = "", []string{} },
			[]problem{{"provider_id", "required"}}},
		{"provider type not a slug", func(c *switchyard.Connection) { c.ProviderID, c.ProviderType = "", "OpenAI" },
			[]problem{{"provider_type", "invalid_slug"}}},
		{"invalid models", func(c *switchyard.Connection) { c.Models = []string{"ok", "", "has space"} },
			[]problem{{"models[1]", "invalid_model"}, {"models[2]", "invalid_model"}}},
		{"key hash required", func(c *switchyard.Connection) { c.KeyHash = "" }, []problem{{"key_hash", "required"}}},
		{"rate limit zero", func(c *switchyard.Connection) { c.RateLimitRPM = 0 }, nil},
		{"rate limit negative", func(c *switchyard.Connection) { c.RateLimitRPM = -1 }, []problem{{"rate_limit_rpm", "out_of_range"}}},
		{"budget zero", func(c *switchyard.Connection) { c.BudgetUSD = 0 }, nil},
		{"budget negative", func(c *switchyard.Connection) { c.BudgetUSD = -0.01 }, []problem{{"budget_usd", "out_of_range"}}},
		{"budget NaN", func(c *switchyard.Connection) { c.BudgetUSD = math.NaN() }, []problem{{"budget_usd", "out_of_range"}}},

		{"BYO credential valid", func(c *switchyard.Connection) {
			c.Credential = &switchyard.Credential{Name: "mine", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "sk-mine")}
		}, nil},
		{"BYO credential needs its secrets", func(c *switchyard.Connection) {
			c.Credential = &switchyard.Credential{Name: "mine", Method: switchyard.AuthAPIKey}
		}, []problem{{"credential.secrets.api_key", "required"}}},
		{"BYO credential needs every required secret", func(c *switchyard.Connection) {
			c.Credential = &switchyard.Credential{Name: "mine", Method: switchyard.AuthAWSSigV4, Secrets: secrets("access_key_id", "AKIA"),
				Config: map[string]string{"region": "eu-west-1"}}
		}, []problem{{"credential.secrets.secret_access_key", "required"}}},
		{"BYO credential every rule", func(c *switchyard.Connection) {
			c.Credential = &switchyard.Credential{Method: switchyard.AuthOAuth2, Secrets: secrets("client_secret", "s", "api_key", "k"),
				Config: map[string]string{"token_url": "https://u:p@login.example.com"}, Weight: -1}
		}, []problem{{"credential.name", "required"}, {"credential.secrets.api_key", "unknown_field"},
			{"credential.config.client_id", "required"}, {"credential.config.token_url", "invalid_url"}, {"credential.weight", "out_of_range"}}},
		{"BYO credential unknown method", func(c *switchyard.Connection) {
			c.Credential = &switchyard.Credential{Name: "mine", Method: "magic"}
		}, []problem{{"credential.method", "invalid_enum"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConnection()
			tt.mutate(c)
			wantProblems(t, c.Validate(), tt.want...)
		})
	}
}

func TestConnectionValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := &switchyard.Connection{ProviderID: "p", ProviderType: "Bad Type", Models: []string{""}, RateLimitRPM: -5, BudgetUSD: -1}
	wantProblems(t, c.Validate(),
		problem{"name", "required"},
		problem{"owner_id", "required"},
		problem{"provider_type", "exclusive"},
		problem{"provider_type", "invalid_slug"},
		problem{"models[0]", "invalid_model"},
		problem{"key_hash", "required"},
		problem{"rate_limit_rpm", "out_of_range"},
		problem{"budget_usd", "out_of_range"},
	)
}

func TestConnectionOldStyle(t *testing.T) {
	tests := []struct {
		name                   string
		providerID, providerTy string
		want                   bool
	}{
		{"provider id", "p1", "", false},
		{"provider type", "", "openai", true},
		{"both", "p1", "openai", false},
		{"neither", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &switchyard.Connection{ProviderID: tt.providerID, ProviderType: tt.providerTy}
			if got := c.OldStyle(); got != tt.want {
				t.Errorf("OldStyle() = %v, want %v", got, tt.want)
			}
		})
	}
}
