import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Provider = Schemas["Provider"];
export type Model = Schemas["Model"];
export type Template = Schemas["Template"];
export type ProviderTest = Schemas["ProviderTest"];
export type Problem = Schemas["Problem"];
export type User = Schemas["User"];
export type Session = Schemas["Session"];
export type Connection = Schemas["Connection"];

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Api is the typed admin API client plus the session's CSRF token. */
export interface Api {
  client: ReturnType<typeof createClient<paths>>;
  /** baseUrl is where the API lives (the live event stream is under it). */
  baseUrl: string;
  setCsrf(token: string | undefined): void;
  /** onUnauthorized is called when the API answers 401 (the session ended). */
  onUnauthorized(fn: (() => void) | undefined): void;
}

/**
 * createApi makes a client for /api/v1. The session cookie goes with every
 * request (same origin); unsafe requests carry the session's CSRF token as
 * X-CSRF-Token, as the API requires.
 */
export function createApi(baseUrl = "/api/v1", fetchImpl?: typeof fetch): Api {
  let csrf: string | undefined;
  let unauthorized: (() => void) | undefined;
  const client = createClient<paths>({
    baseUrl,
    credentials: "same-origin",
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const withCsrf: Middleware = {
    onRequest({ request }) {
      if (csrf && unsafe.has(request.method)) {
        request.headers.set("X-CSRF-Token", csrf);
      }
      return request;
    },
    onResponse({ request, response }) {
      // A session that expired or was revoked: back to the login page.
      // (Logging in and asking who is logged in answer 401 as part of their job.)
      if (response.status === 401 && !new URL(request.url).pathname.endsWith("/session")) unauthorized?.();
      return response;
    },
  };
  client.use(withCsrf);
  return { client, baseUrl, setCsrf: (t) => (csrf = t), onUnauthorized: (fn) => (unauthorized = fn) };
}

/** ApiError carries the API's problem details to the screen that failed. */
export class ApiError extends Error {
  problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }
}

/**
 * unwrap returns data or throws the API's problem (or a synthetic one when the
 * answer was not problem+json, such as a network failure).
 */
export function unwrap<T>(res: { data?: T; error?: unknown; response: Response }): T {
  if (res.error !== undefined || !res.response.ok) {
    throw new ApiError(asProblem(res.error, res.response));
  }
  return res.data as T;
}

export function asProblem(err: unknown, response?: Response): Problem {
  if (err && typeof err === "object" && "code" in err && "detail" in err) {
    return err as Problem;
  }
  const status = response?.status ?? 0;
  return {
    type: "about:blank",
    title: response ? `HTTP ${status}` : "Network error",
    status,
    code: "internal",
    detail: response ? `the server answered ${status} ${response.statusText}` : String(err),
  };
}

/** fieldErrors maps each problem field path to its message. */
export function fieldErrors(p: Problem | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of p?.errors ?? []) {
    if (!(e.field in out)) out[e.field] = e.message;
  }
  return out;
}
