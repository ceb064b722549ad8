import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, unwrap, type Api, type Session, type User } from "./api/client";

interface SessionState {
  api: Api;
  /** The logged-in user; null when logged out, undefined while loading. */
  user: User | null | undefined;
  isAdmin: boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

/** readSession asks who is logged in: the session, or null when nobody is. */
export function readSession(api: Api): Promise<Session | null> {
  return api.client.GET("/session").then(
    (res) => (res.response.ok && res.data ? res.data : null),
    () => null,
  );
}

/**
 * SessionProvider loads who is logged in and keeps the CSRF token in the
 * client. `first` is that question already asked (main.tsx asks it before
 * the first render, so the answer is on its way while the app starts).
 */
export function SessionProvider({ api, first, children }: { api: Api; first?: Promise<Session | null>; children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const qc = useQueryClient();

  const adopt = useCallback(
    (s: Session | null) => {
      api.setCsrf(s?.csrf_token);
      setUser(s ? s.user : null);
    },
    [api],
  );

  useEffect(() => {
    api.onUnauthorized(() => {
      qc.clear();
      adopt(null);
    });
    return () => api.onUnauthorized(undefined);
  }, [api, adopt, qc]);

  useEffect(() => {
    let live = true;
    (first ?? readSession(api)).then((s) => live && adopt(s));
    return () => {
      live = false;
    };
  }, [api, first, adopt]);

  const login = useCallback(
    async (username: string, password: string) => {
      const s = unwrap(await api.client.POST("/session", { body: { username, password } }));
      qc.clear();
      adopt(s);
    },
    [api, adopt, qc],
  );

  const logout = useCallback(async () => {
    try {
      unwrap(await api.client.DELETE("/session", {}));
    } catch (e) {
      if (!(e instanceof ApiError) || e.problem.status !== 401) throw e;
    }
    qc.clear();
    adopt(null);
  }, [api, adopt, qc]);

  const value = useMemo(
    () => ({ api, user, isAdmin: user?.role === "admin", login, logout }),
    [api, user, login, logout],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

/** useApi is the typed client of the session. */
export function useApi() {
  return useSession().api.client;
}
