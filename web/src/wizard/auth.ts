import type { Schemas } from "../api/client";

type AuthMethod = Schemas["AuthMethod"];

export interface AuthField {
  key: string;
  label: string;
  secret: boolean;
  required: boolean;
  multiline?: boolean;
}

// The fields of each auth method, as the server's AuthMethods table defines
// them (provider.go); secrets are write-only.
const table: Record<AuthMethod, AuthField[]> = {
  api_key: [{ key: "api_key", label: "API key", secret: true, required: true }],
  bearer: [{ key: "token", label: "Bearer token", secret: true, required: true }],
  oauth2_client_credentials: [
    { key: "client_id", label: "Client ID", secret: false, required: true },
    { key: "token_url", label: "Token URL", secret: false, required: true },
    { key: "client_secret", label: "Client secret", secret: true, required: true },
    { key: "scopes", label: "Scopes", secret: false, required: false },
    { key: "audience", label: "Audience", secret: false, required: false },
  ],
  aws_sigv4: [
    { key: "region", label: "AWS region", secret: false, required: true },
    { key: "access_key_id", label: "Access key ID", secret: true, required: true },
    { key: "secret_access_key", label: "Secret access key", secret: true, required: true },
    { key: "session_token", label: "Session token", secret: true, required: false },
  ],
  gcp_service_account: [
    { key: "service_account_json", label: "Service account key (JSON)", secret: true, required: true, multiline: true },
    { key: "scopes", label: "Scopes", secret: false, required: false },
  ],
  azure_ad: [
    { key: "tenant_id", label: "Tenant ID", secret: false, required: true },
    { key: "client_id", label: "Client ID", secret: false, required: true },
    { key: "client_secret", label: "Client secret", secret: true, required: true },
  ],
  none: [],
};

export const authMethodNames: Record<AuthMethod, string> = {
  api_key: "API key",
  bearer: "Bearer token",
  oauth2_client_credentials: "OAuth2 client credentials",
  aws_sigv4: "AWS SigV4",
  gcp_service_account: "GCP service account",
  azure_ad: "Microsoft Entra ID",
  none: "No authentication",
};

export function authFields(m: AuthMethod): AuthField[] {
  return table[m] ?? [];
}
