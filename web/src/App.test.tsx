import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { render } from "@testing-library/react";
import { App } from "./App";
import { readSession } from "./session";
import { adminUser, fakeApi, problem } from "./test/harness";

const empty = { items: [], next_cursor: null };

describe("app", () => {
  it("shows a plain user no admin screens", async () => {
    window.history.pushState({}, "", "/users");
    const { api } = fakeApi((method, path) => (method === "GET" && path.startsWith("/providers") ? { body: empty } : undefined), { ...adminUser, role: "user", username: "ada" });
    render(<App api={api} />);
    expect(await screen.findByRole("heading", { name: "Admins only" }, { timeout: 5000 })).toBeTruthy();
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Providers" })).toBeTruthy();
    expect(within(nav).queryByRole("link", { name: "Users" })).toBeNull();
    expect(within(nav).queryByRole("link", { name: "Add provider" })).toBeNull();
  });

  it("returns to the login page when the session ends", async () => {
    window.history.pushState({}, "", "/providers");
    const { api } = fakeApi((method, path) => (method === "GET" && path.startsWith("/providers") ? { status: 401, body: problem(401, "unauthorized", "the session expired") } : undefined));
    render(<App api={api} />);
    expect(await screen.findByRole("heading", { name: "Log in to Switchyard" }, { timeout: 5000 })).toBeTruthy();
    expect(window.location.pathname).toBe("/login");
    expect(window.location.search).toBe("?next=%2Fproviders");
  });

  it("uses the session asked for before the first render instead of asking again", async () => {
    window.history.pushState({}, "", "/providers");
    const { api, calls } = fakeApi((method, path) => (method === "GET" && path.startsWith("/providers") ? { body: empty } : undefined));
    const first = readSession(api);
    render(<App api={api} session={first} />);
    expect(await screen.findByRole("heading", { name: "Providers" }, { timeout: 5000 })).toBeTruthy();
    expect(calls.filter((c) => c.path === "/session")).toHaveLength(1);
  });
});
