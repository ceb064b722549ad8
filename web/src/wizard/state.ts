import type { ProviderTest, Schemas, Template } from "../api/client";
import { authFields } from "./auth";
import { checkParam, paramDefaults, paramFields } from "./schema";

export const steps = ["Template", "Parameters", "Credentials", "Connectivity", "Models", "Review"] as const;
export type Step = 0 | 1 | 2 | 3 | 4 | 5;

export interface WizardState {
  step: Step;
  /** The chosen template; null with blank = true for a provider from scratch. */
  template: Template | null;
  blank: boolean;
  name: string;
  slug: string;
  /** slugEdited stops the slug following the name once typed by hand. */
  slugEdited: boolean;
  params: Record<string, string>;
  protocol: Schemas["Protocol"];
  baseUrl: string;
  authMethod: Schemas["AuthMethod"];
  secrets: Record<string, string>;
  config: Record<string, string>;
  test: ProviderTest | null;
  /** models are the upstream ids chosen to add. */
  models: string[];
  enable: boolean;
  /** showErrors turns on inline messages for a step after a Next attempt. */
  showErrors: boolean;
}

export const initialState: WizardState = {
  step: 0,
  template: null,
  blank: false,
  name: "",
  slug: "",
  slugEdited: false,
  params: {},
  protocol: "openai_compatible",
  baseUrl: "",
  authMethod: "api_key",
  secrets: {},
  config: {},
  test: null,
  models: [],
  enable: true,
  showErrors: false,
};

export type Action =
  | { type: "template"; template: Template }
  | { type: "blank" }
  | { type: "field"; field: "name" | "slug" | "baseUrl"; value: string }
  | { type: "protocol"; value: Schemas["Protocol"] }
  | { type: "authMethod"; value: Schemas["AuthMethod"] }
  | { type: "param"; name: string; value: string }
  | { type: "secret"; name: string; value: string }
  | { type: "config"; name: string; value: string }
  | { type: "test"; result: ProviderTest | null }
  | { type: "models"; ids: string[] }
  | { type: "toggleModel"; id: string }
  | { type: "enable"; value: boolean }
  | { type: "next" }
  | { type: "back" }
  | { type: "goto"; step: Step };

/** slugify turns a name into a provider slug: lower case, digits, inner hyphens. */
export function slugify(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/g, "");
}

const plainConfig = (c: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(c ?? {}).filter(([, v]) => !v.includes("{")));

export function reducer(s: WizardState, a: Action): WizardState {
  switch (a.type) {
    case "template": {
      // The same template again keeps everything typed so far.
      if (s.template?.id === a.template.id && !s.blank) return { ...s, step: 1, showErrors: false };
      const t = a.template;
      const name = s.name && s.slugEdited ? s.name : t.name;
      return {
        ...s,
        step: 1,
        template: t,
        blank: false,
        name,
        slug: s.slugEdited ? s.slug : slugify(name),
        params: paramDefaults(t.parameters),
        protocol: t.protocol,
        baseUrl: t.base_url,
        authMethod: t.auth_method,
        secrets: {},
        config: plainConfig(t.auth_config),
        test: null,
        models: [],
        showErrors: false,
      };
    }
    case "blank":
      if (s.blank) return { ...s, step: 1, showErrors: false };
      return { ...initialState, step: 1, blank: true, name: s.name, slug: s.slug, slugEdited: s.slugEdited };
    case "field":
      if (a.field === "name") return { ...s, name: a.value, slug: s.slugEdited ? s.slug : slugify(a.value) };
      if (a.field === "slug") return { ...s, slug: a.value, slugEdited: true };
      return { ...s, baseUrl: a.value, test: null };
    case "protocol":
      return { ...s, protocol: a.value, test: null };
    case "authMethod":
      return { ...s, authMethod: a.value, secrets: {}, config: {}, test: null };
    case "param":
      return { ...s, params: { ...s.params, [a.name]: a.value }, test: null };
    case "secret":
      return { ...s, secrets: { ...s.secrets, [a.name]: a.value }, test: null };
    case "config":
      return { ...s, config: { ...s.config, [a.name]: a.value }, test: null };
    case "test":
      return { ...s, test: a.result };
    case "models":
      return { ...s, models: a.ids };
    case "toggleModel":
      return { ...s, models: s.models.includes(a.id) ? s.models.filter((m) => m !== a.id) : [...s.models, a.id] };
    case "enable":
      return { ...s, enable: a.value };
    case "next": {
      if (Object.keys(stepErrors(s)).length > 0) return { ...s, showErrors: true };
      return { ...s, step: Math.min(s.step + 1, 5) as Step, showErrors: false };
    }
    case "back":
      return { ...s, step: Math.max(s.step - 1, 0) as Step, showErrors: false };
    case "goto":
      return { ...s, step: a.step, showErrors: false };
  }
}

const slugRe = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** stepErrors are the inline messages that keep the current step from moving on. */
export function stepErrors(s: WizardState): Record<string, string> {
  const e: Record<string, string> = {};
  switch (s.step) {
    case 0:
      if (!s.template && !s.blank) e.template = "Choose a template, or start blank";
      break;
    case 1:
      if (!s.name.trim()) e.name = "Name is required";
      if (!s.slug) e.slug = "Slug is required";
      else if (!slugRe.test(s.slug)) e.slug = 'must be 1-64 lower-case letters, digits and inner hyphens, such as "openai-prod"';
      if (s.blank) {
        if (!s.baseUrl.trim()) e.base_url = "Base URL is required";
        else if (!/^https?:\/\/[^\s/]+/.test(s.baseUrl)) e.base_url = "must be an http or https URL such as https://llm.example.com/v1";
      } else if (s.template) {
        for (const f of paramFields(s.template.parameters)) {
          const m = checkParam(f, s.params[f.name]);
          if (m) e[`params.${f.name}`] = m;
        }
      }
      break;
    case 2:
      for (const f of authFields(s.authMethod)) {
        const v = (f.secret ? s.secrets[f.key] : s.config[f.key]) ?? "";
        if (!f.secret && !s.blank) continue; // a template's auth config comes from its parameters
        if (f.required && !v.trim()) e[`${f.secret ? "secrets" : "config"}.${f.key}`] = `${f.label} is required`;
      }
      break;
    case 4:
      if (s.template && s.template.models.length > 0 && s.models.length === 0) e.models = "Choose at least one model";
      break;
  }
  return e;
}

/** stepOf says which step owns a field the server named, to go back to it. */
export function stepOf(field: string): Step {
  if (field.startsWith("secrets.") || field.startsWith("config.") || field.startsWith("credentials")) return 2;
  if (field.startsWith("models")) return 4;
  return 1;
}

/**
 * localField turns the server's field paths into the wizard's:
 * credentials[0].secrets.api_key → secrets.api_key.
 */
export function localField(field: string): string {
  return field.replace(/^credentials\[\d+\]\./, "");
}
