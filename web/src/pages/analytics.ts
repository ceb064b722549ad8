import type { Schemas } from "../api/client";

export type Report = Schemas["UsageReport"];
export type Point = Schemas["UsagePoint"];

/** Metric is what a chart plots per bucket. */
export interface Metric {
  key: string;
  title: string;
  value(p: Point): number;
  format(v: number): string;
}

/** seriesLabel names a series for a legend: its name, else its key, else "All". */
export function seriesLabel(s: Schemas["UsageSeries"]): string {
  return s.name || (s.key ? `${s.key.slice(0, 8)}… (deleted)` : "All");
}

/**
 * topSeries keeps the `n` series with the most requests: more lines than that
 * cannot be told apart on a chart.
 */
export function topSeries(r: Report | undefined, n = 6): Schemas["UsageSeries"][] {
  return [...(r?.series ?? [])].sort((a, b) => b.total.requests - a.total.requests).slice(0, n);
}

/**
 * pivot turns a report into chart rows: one row per bucket (in time order)
 * with one column per series, named by the series' index ("s0", "s1"…), and
 * the bucket start in `at`. A bucket a series has no point in reads 0.
 */
export function pivot(series: Schemas["UsageSeries"][], metric: (p: Point) => number): Record<string, number | string>[] {
  const rows = new Map<string, Record<string, number | string>>();
  series.forEach((s, i) => {
    for (const p of s.points) {
      let row = rows.get(p.at);
      if (!row) {
        row = { at: p.at };
        series.forEach((_, j) => (row![`s${j}`] = 0));
        rows.set(p.at, row);
      }
      row[`s${i}`] = metric(p);
    }
  });
  return [...rows.values()].sort((a, b) => String(a.at).localeCompare(String(b.at)));
}

/** evidenceLabel turns an evidence key into words ("latency_p50_ms" → "latency p50 ms"). */
export function evidenceLabel(k: string): string {
  return k.replace(/^alternative_/, "alternative: ").replace(/_/g, " ");
}

/** evidenceValue formats an evidence number by what its key says it is. */
export function evidenceValue(k: string, v: number): string {
  if (k.endsWith("_ms")) return `${Math.round(v)} ms`;
  if (k.endsWith("_usd")) return `$${v.toFixed(2)}`;
  if (k.endsWith("_rate") || k.endsWith("_share")) return `${(v * 100).toFixed(1)}%`;
  if (k.endsWith("_hours")) return `${+v.toFixed(1)} hours`;
  if (k === "days" || k.endsWith("_days") || k.startsWith("days_")) return `${+v.toFixed(1)} days`;
  return Number.isInteger(v) ? v.toLocaleString("en") : v.toFixed(2);
}
