import { Badge, Group, Tooltip } from "@mantine/core";
import type { Model, Schemas } from "../api/client";

const statusColor: Record<Schemas["ProviderStatus"], string> = {
  healthy: "green",
  degraded: "yellow",
  down: "red",
  disabled: "gray",
  unknown: "blue",
};

/** StatusBadge shows a provider's health in words and colour. */
export function StatusBadge({ status }: { status: Schemas["ProviderStatus"] }) {
  return (
    <Badge color={statusColor[status]} variant="light" miw="max-content" aria-label={`status: ${status}`}>
      {status}
    </Badge>
  );
}

export const protocolNames: Record<Schemas["Protocol"], string> = {
  openai: "OpenAI",
  openai_compatible: "OpenAI-compatible",
  azure_openai: "Azure OpenAI",
  anthropic: "Anthropic",
  bedrock: "AWS Bedrock",
  gemini: "Google Gemini",
  vertex: "Google Vertex AI",
  ollama: "Ollama",
};

const capabilityLabels: [keyof Schemas["Capabilities"], string][] = [
  ["tools", "tools"],
  ["json_mode", "JSON"],
  ["streaming", "stream"],
  ["vision", "vision"],
  ["embeddings", "embeddings"],
  ["reasoning", "reasoning"],
];

/** CapabilityBadges lists what a model can do; overrides are marked. */
export function CapabilityBadges({ model }: { model: Pick<Model, "capabilities" | "sources"> }) {
  const on = capabilityLabels.filter(([k]) => model.capabilities[k] === true);
  if (on.length === 0) return <span aria-label="no declared capabilities">—</span>;
  return (
    <Group gap={4} wrap="wrap">
      {on.map(([k, label]) => {
        const src = model.sources?.[k];
        return (
          <Tooltip key={k} label={src ? `source: ${src}` : "declared"}>
            <Badge size="xs" variant={src === "override" ? "filled" : "outline"}>
              {label}
            </Badge>
          </Tooltip>
        );
      })}
    </Group>
  );
}

/** price formats dollars per million tokens. */
export function price(v: number | undefined): string {
  if (v === undefined) return "—";
  return `$${v < 1 ? v.toFixed(v < 0.1 ? 3 : 2) : v.toFixed(2)}`;
}

export function tokens(n: number): string {
  if (!n) return "—";
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(2)}M`;
  if (n >= 1000) return `${Math.round(n / 1000)}k`;
  return String(n);
}
