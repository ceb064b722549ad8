package tokenauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/switchyard/switchyard/provider"
)

const awsDefaultService = "bedrock"

// awsNameRE is the shape of region and service names in a credential scope.
var awsNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// sigV4 signs each request with AWS Signature Version 4. It has no token to
// cache: Invalidate reports false, so a 401 is not retried.
type sigV4 struct {
	creds   aws.Credentials
	region  string
	service string
	now     func() time.Time
	signer  *v4.Signer
}

// newSigV4 builds aws_sigv4: secrets access_key_id, secret_access_key and
// session_token; config region and service (default bedrock).
func newSigV4(c creds, opts provider.AuthOptions) (provider.Authenticator, error) {
	region, err := c.config("region")
	if err != nil {
		return nil, err
	}
	if !awsNameRE.MatchString(region) {
		return nil, c.errorf("config region must be an AWS region name, such as us-east-1")
	}
	service := c.optionalConfig("service", awsDefaultService)
	if !awsNameRE.MatchString(service) {
		return nil, c.errorf("config service must be an AWS signing name, such as bedrock")
	}
	id, err := c.secret("access_key_id")
	if err != nil {
		return nil, err
	}
	key, err := c.secret("secret_access_key")
	if err != nil {
		return nil, err
	}
	session, err := c.optionalSecret("session_token")
	if err != nil {
		return nil, err
	}
	return &sigV4{
		creds:   aws.Credentials{AccessKeyID: id, SecretAccessKey: key, SessionToken: session, Source: "switchyard"},
		region:  region,
		service: service,
		now:     opts.Now,
		signer:  v4.NewSigner(),
	}, nil
}

// Apply signs req over the hex SHA-256 of body. The signer adds X-Amz-Date,
// X-Amz-Security-Token (with a session token) and Authorization, and signs
// every header already set except User-Agent and a few others AWS ignores,
// so it must run after the request's headers are final.
func (s *sigV4) Apply(ctx context.Context, req *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	if err := s.signer.SignHTTP(ctx, s.creds, req, hex.EncodeToString(sum[:]), s.service, s.region, s.now().UTC()); err != nil {
		return provider.Errorf(provider.CodeAuth, nil, "cannot sign the request for AWS: %s", redact(err.Error()))
	}
	return nil
}

func (s *sigV4) Invalidate() bool { return false }
