import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { MantineProvider } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import { createApi, type Schemas } from "../api/client";
import { SessionProvider } from "../session";
import { makeQueryClient } from "../App";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Headers;
}

type Reply = { status?: number; body?: unknown } | undefined;
export type Route_ = (method: string, path: string, body: unknown) => Reply;

export const adminUser: Schemas["User"] = {
  id: "u1", username: "root", email: "", role: "admin", disabled: false, has_password: true, version: 1,
  created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z",
};

/**
 * fakeApi answers the client's requests from `route` (and GET /session with
 * the given user), recording every call.
 */
export function fakeApi(route: Route_, user: Schemas["User"] | null = adminUser) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\/v1/, "") + url.search;
    const text = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    const body = text ? JSON.parse(text) : undefined;
    calls.push({ method: req.method, path, body, headers: req.headers });
    let r: Reply;
    if (path === "/session" && req.method === "GET") {
      r = user ? { body: { user, csrf_token: "csrf-123" } } : { status: 401, body: problem(401, "unauthorized", "log in first") };
    } else {
      r = route(req.method, path, body);
    }
    if (!r) r = { status: 404, body: problem(404, "not_found", `no fake for ${req.method} ${path}`) };
    const status = r.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(r.body ?? {}), {
      status,
      headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
    });
  };
  const api = createApi("http://localhost/api/v1", fetchImpl as typeof fetch);
  return { api, calls };
}

export function problem(status: number, code: string, detail: string, errors?: { field: string; code: string; message: string }[]) {
  return { type: `https://switchyard.dev/problems/${code}`, title: code, status, code, detail, ...(errors ? { errors } : {}) };
}

/** renderAt renders ui at path inside the app's providers. */
export function renderAt(ui: ReactNode, api: ReturnType<typeof fakeApi>["api"], path = "/", pattern = "*") {
  return render(
    <MantineProvider env="test">
      <QueryClientProvider client={makeQueryClient()}>
        <SessionProvider api={api}>
          <MemoryRouter initialEntries={[path]}>
            <Routes>
              <Route path={pattern} element={ui} />
              <Route path="/providers/:id" element={<div>provider page</div>} />
            </Routes>
          </MemoryRouter>
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>,
  );
}
