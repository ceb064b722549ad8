import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { Schemas } from "./api/client";

/** LiveState says whether the event stream is open. */
export type LiveState = "connecting" | "live" | "offline";

/** StatusEvent is the data of a provider.status event. */
export interface StatusEvent {
  provider_id: string;
  slug: string;
  from: Schemas["ProviderStatus"];
  to: Schemas["ProviderStatus"];
  reason: string;
  at: string;
}

/** EventStream is the part of the browser's EventSource the dashboard uses. */
export interface EventStream {
  readonly readyState: number;
  onopen: ((e: Event) => void) | null;
  onerror: ((e: Event) => void) | null;
  addEventListener(type: string, fn: (e: MessageEvent) => void): void;
  close(): void;
}
export type OpenStream = (url: string) => EventStream;

const CLOSED = 2;

const browserStream: OpenStream = (url) => new EventSource(url, { withCredentials: true });

/**
 * applyEvent brings the cached data in line with one event: a status change
 * is written into the cached lists at once (no wait for a refetch), then the
 * queries that depend on it are refreshed.
 */
export function applyEvent(qc: QueryClient, type: string, data: unknown) {
  switch (type) {
    case "provider.status": {
      const ev = data as StatusEvent;
      // Kept so that a read of /health that raced the event cannot undo it (mergeLive).
      qc.setQueryData<Record<string, StatusEvent>>(liveStatusKey, (old) => ({ ...old, [ev.provider_id]: ev }));
      qc.setQueriesData<Schemas["HealthOverview"]>({ queryKey: ["health"] }, (old) =>
        old && {
          ...old,
          providers: old.providers.map((p) =>
            p.provider_id === ev.provider_id ? { ...p, status: ev.to, reason: ev.reason, changed_at: ev.at } : p,
          ),
        },
      );
      qc.invalidateQueries({ queryKey: ["health"] });
      qc.invalidateQueries({ queryKey: ["providers"] });
      qc.invalidateQueries({ queryKey: ["provider", ev.provider_id] });
      qc.invalidateQueries({ queryKey: ["provider-health", ev.provider_id] });
      break;
    }
    case "registry.changed":
      qc.invalidateQueries({ queryKey: ["providers"] });
      break;
    case "gap":
      // Some events were lost: read everything again.
      qc.invalidateQueries({ queryKey: ["health"] });
      qc.invalidateQueries({ queryKey: ["providers"] });
      qc.invalidateQueries({ queryKey: ["provider"] });
      qc.invalidateQueries({ queryKey: ["provider-health"] });
      break;
  }
}

/** liveStatusKey caches the latest provider.status event of each provider. */
export const liveStatusKey = ["live-status"];

/**
 * mergeLive applies the latest status events to a health overview: an event
 * newer than the overview's last change of that provider wins.
 */
export function mergeLive(h: Schemas["HealthOverview"] | undefined, events: Record<string, StatusEvent> | undefined): Schemas["HealthOverview"] | undefined {
  if (!h || !events) return h;
  return {
    ...h,
    providers: h.providers.map((p) => {
      const ev = events[p.provider_id];
      if (!ev || (p.changed_at && Date.parse(p.changed_at) >= Date.parse(ev.at))) return p;
      return { ...p, status: ev.to, reason: ev.reason, changed_at: ev.at };
    }),
  };
}

/** useLiveEvents is the latest status event of each provider seen on the stream. */
export function useLiveEvents(): Record<string, StatusEvent> {
  const qc = useQueryClient();
  const [events, setEvents] = useState(() => qc.getQueryData<Record<string, StatusEvent>>(liveStatusKey) ?? {});
  useEffect(
    () =>
      qc.getQueryCache().subscribe((e) => {
        if (e.query.queryKey[0] === liveStatusKey[0]) setEvents((e.query.state.data as Record<string, StatusEvent>) ?? {});
      }),
    [qc],
  );
  return events;
}

const Ctx = createContext<LiveState>("offline");

/**
 * LiveProvider follows GET /events while it is mounted (a logged-in user).
 * The browser's EventSource reconnects by itself with Last-Event-ID; when it
 * gives up (the server refused, or went away for good) it is opened again
 * after a growing delay, up to 30 s.
 */
export function LiveProvider({ url, open = browserStream, children }: { url: string; open?: OpenStream; children: ReactNode }) {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (open === browserStream && typeof EventSource === "undefined") {
      setState("offline");
      return;
    }
    let stream: EventStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    let stopped = false;
    const connect = () => {
      setState("connecting");
      const s = open(url);
      stream = s;
      s.onopen = () => {
        delay = 1000;
        setState("live");
        // Whatever changed while the stream was down.
        qc.invalidateQueries({ queryKey: ["health"] });
      };
      s.onerror = () => {
        if (stopped) return;
        if (s.readyState === CLOSED) {
          setState("offline");
          s.close();
          timer = setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30_000);
        } else {
          setState("connecting");
        }
      };
      for (const type of ["provider.status", "registry.changed", "gap"]) {
        s.addEventListener(type, (e) => {
          let data: unknown;
          try {
            data = e.data ? JSON.parse(e.data) : undefined;
          } catch {
            return;
          }
          applyEvent(qc, type, data);
        });
      }
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      stream?.close();
    };
  }, [url, open, qc]);
  return <Ctx.Provider value={state}>{children}</Ctx.Provider>;
}

/** useLive is the state of the event stream ("offline" outside LiveProvider). */
export function useLive(): LiveState {
  return useContext(Ctx);
}

/**
 * useFallbackPolling is the refetch interval for data that events keep
 * fresh: none while the stream is live, every 15 s otherwise.
 */
export function useFallbackPolling(): number | false {
  return useLive() === "live" ? false : 15_000;
}
