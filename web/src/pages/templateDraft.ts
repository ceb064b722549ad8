import type { Schemas, Template } from "../api/client";
import { checkParam, paramFields } from "../wizard/schema";

/** Draft is the template editor's form: JSON and lists as text. */
export interface Draft {
  slug: string;
  name: string;
  description: string;
  protocol: Schemas["Protocol"];
  base_url: string;
  auth_method: Schemas["AuthMethod"];
  parameters: string;
  models: string;
}

export const emptyDraft: Draft = {
  slug: "",
  name: "",
  description: "",
  protocol: "openai_compatible",
  base_url: "https://{host}/v1",
  auth_method: "api_key",
  parameters: JSON.stringify({ type: "object", required: ["host"], properties: { host: { type: "string", title: "Host", pattern: "^[a-z0-9.-]+(:[0-9]{1,5})?$", examples: ["llm.example.com"] } } }, null, 2),
  models: "",
};

export function draftOf(t: Template): Draft {
  return {
    slug: t.slug,
    name: t.name,
    description: t.description,
    protocol: t.protocol,
    base_url: t.base_url,
    auth_method: t.auth_method,
    parameters: JSON.stringify(t.parameters ?? {}, null, 2),
    models: t.models.map((m) => m.upstream_id).join("\n"),
  };
}

const slugRe = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * checkDraft finds what is wrong with a draft before it is sent, by field:
 * required fields, the slug's form, the parameters as a JSON Schema object
 * whose defaults pass their own checks, and base URL placeholders that name
 * a parameter.
 */
export function checkDraft(d: Draft): Partial<Record<keyof Draft, string>> {
  const e: Partial<Record<keyof Draft, string>> = {};
  if (!d.name.trim()) e.name = "Name is required";
  if (!d.slug) e.slug = "Slug is required";
  else if (!slugRe.test(d.slug)) e.slug = "Use lower-case letters, digits and inner hyphens (at most 64)";
  if (!d.base_url.trim()) e.base_url = "Base URL is required";
  let schema: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(d.parameters || "{}");
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("must be a JSON object (a JSON Schema)");
    schema = v;
  } catch (err) {
    e.parameters = err instanceof SyntaxError ? `not JSON: ${err.message}` : (err as Error).message;
  }
  if (schema) {
    if (schema.type !== undefined && schema.type !== "object") e.parameters = 'the schema\'s type must be "object"';
    else if (schema.properties !== undefined && (typeof schema.properties !== "object" || Array.isArray(schema.properties))) e.parameters = "properties must be an object";
    else {
      const fields = paramFields(schema);
      const names = new Set(fields.map((f) => f.name));
      const req = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
      const unknownReq = req.find((r) => typeof r !== "string" || !names.has(r));
      const badDefault = fields.find((f) => f.default !== undefined && checkParam(f, f.default));
      if (unknownReq !== undefined) e.parameters = `required names ${String(unknownReq)}, which is not among the properties`;
      else if (badDefault) e.parameters = `the default of ${badDefault.name} ${checkParam(badDefault, badDefault.default)}`;
      else if (!e.base_url) {
        const missing = [...d.base_url.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).find((n) => !names.has(n));
        if (missing) e.base_url = `{${missing}} is not a parameter: add it to the parameters or remove it`;
      }
    }
  }
  const ids = d.models.split("\n").map((s) => s.trim()).filter(Boolean);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) e.models = `${dup} is listed twice`;
  return e;
}

/** bodyOf turns a checked draft into the API's template, keeping the details of models that stay. */
export function bodyOf(d: Draft, previous?: Template): Schemas["TemplateCreate"] {
  const ids = d.models.split("\n").map((s) => s.trim()).filter(Boolean);
  const kept = new Map((previous?.models ?? []).map((m) => [m.upstream_id, m]));
  return {
    slug: d.slug,
    name: d.name.trim(),
    description: d.description,
    protocol: d.protocol,
    base_url: d.base_url.trim(),
    auth_method: d.auth_method,
    parameters: JSON.parse(d.parameters || "{}"),
    models: ids.map((id) => kept.get(id) ?? { upstream_id: id }),
  };
}

/** draftField maps an API problem's field path to the editor field that shows it. */
export function draftField(path: string): keyof Draft | undefined {
  const top = path.split(/[.[]/)[0];
  return (["slug", "name", "description", "protocol", "base_url", "auth_method", "parameters", "models"] as const).find((k) => k === top);
}
