import type { Schemas } from "../api/client";

export type UsageSeries = Schemas["UsageSeries"];
export type ProviderHealth = Schemas["ProviderHealth"];

/** startOfToday is local midnight, as the API's RFC 3339. */
export function startOfToday(now = new Date()): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

/** byKey indexes series by their group key. */
export function byKey(series: UsageSeries[] | undefined): Map<string, UsageSeries> {
  return new Map((series ?? []).map((s) => [s.key, s]));
}

/** healthById indexes the health overview by provider. */
export function healthById(h: Schemas["HealthOverview"] | undefined): Map<string, ProviderHealth> {
  return new Map((h?.providers ?? []).map((p) => [p.provider_id, p]));
}

export function percent(rate: number | undefined): string {
  if (rate === undefined) return "—";
  const v = rate * 100;
  return `${v === 0 || v >= 10 ? v.toFixed(0) : v.toFixed(1)}%`;
}

export function ms(v: number | undefined): string {
  if (v === undefined || !v) return "—";
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

export function usd(v: number | undefined): string {
  if (v === undefined) return "—";
  if (v === 0) return "$0";
  return v < 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}

export function count(n: number | undefined): string {
  if (!n) return "0";
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  return n.toLocaleString("en");
}

/** ago says how long ago a time was, shortly. */
export function ago(at: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - new Date(at).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
