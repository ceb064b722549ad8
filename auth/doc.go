// Package auth holds the credentials of people and apps: password hashing
// and policy, opaque tokens (API tokens, gateway keys, session ids), CSRF
// tokens and login rate limiting.
//
// It knows nothing of storage or transports: callers store the hashes it
// returns and hand them back to verify. It uses the standard library plus
// golang.org/x/crypto (argon2id, and bcrypt for imported legacy hashes).
package auth
