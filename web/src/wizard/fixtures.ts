import type { Template } from "../api/client";

const base = {
  description: "", auth_config: {}, headers: {}, settings: {}, docs_url: "", env_vars: [], system: true, catalog_version: 1, version: 1,
  created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z",
};

export const azure: Template = {
  ...base,
  id: "t-azure",
  slug: "azure-openai",
  name: "Azure OpenAI",
  description: "OpenAI models in an Azure resource.",
  protocol: "azure_openai",
  base_url: "https://{resource}.openai.azure.com",
  auth_method: "api_key",
  auth_config: { header: "api-key", prefix: "" },
  parameters: {
    type: "object",
    required: ["resource"],
    properties: {
      resource: { type: "string", title: "Resource name", pattern: "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", examples: ["my-openai-resource"] },
      api_version: { type: "string", title: "API version", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:-preview)?$", default: "2024-10-21" },
    },
  },
  models: [
    { upstream_id: "gpt-4o", display_name: "GPT-4o", capabilities: { context_window: 128000, tools: true, vision: true }, pricing: { input_per_mtok: 2.5, output_per_mtok: 10 } },
    { upstream_id: "gpt-4o-mini", display_name: "GPT-4o mini", pricing: { input_per_mtok: 0.15, output_per_mtok: 0.6 } },
  ],
};

export const compatible: Template = {
  ...base,
  id: "t-compat",
  slug: "openai-compatible",
  name: "OpenAI-compatible endpoint",
  protocol: "openai_compatible",
  base_url: "{base_url}",
  auth_method: "api_key",
  parameters: {
    type: "object",
    required: ["base_url"],
    properties: { base_url: { type: "string", title: "Base URL", format: "uri", examples: ["https://llm.example.com/v1"] } },
  },
  models: [],
};
