// A small JSON Schema reader for template parameters: the fields to show and
// the inline checks (required, type, pattern, length, range, enum, uri).
// The server checks the same schema again; its messages win when they differ.

export interface ParamField {
  name: string;
  title: string;
  description?: string;
  type: "string" | "integer" | "number" | "boolean";
  required: boolean;
  enum?: string[];
  default?: string;
  example?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
}

type Json = Record<string, unknown>;

const asObj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** paramFields lists the template's parameters, required ones first. */
export function paramFields(schema: unknown): ParamField[] {
  const s = asObj(schema);
  const props = asObj(s.properties);
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  const fields = Object.entries(props).map(([name, raw]): ParamField => {
    const p = asObj(raw);
    const t = p.type;
    const type = t === "integer" || t === "number" || t === "boolean" ? t : "string";
    const examples = Array.isArray(p.examples) ? p.examples : [];
    return {
      name,
      title: typeof p.title === "string" ? p.title : name,
      description: typeof p.description === "string" ? p.description : undefined,
      type,
      required: required.includes(name),
      enum: Array.isArray(p.enum) ? p.enum.map(String) : undefined,
      default: p.default !== undefined ? String(p.default) : undefined,
      example: examples.length ? String(examples[0]) : undefined,
      pattern: typeof p.pattern === "string" ? p.pattern : undefined,
      minLength: typeof p.minLength === "number" ? p.minLength : undefined,
      maxLength: typeof p.maxLength === "number" ? p.maxLength : undefined,
      minimum: typeof p.minimum === "number" ? p.minimum : undefined,
      maximum: typeof p.maximum === "number" ? p.maximum : undefined,
      format: typeof p.format === "string" ? p.format : undefined,
    };
  });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** defaults gives each parameter with a default its value. */
export function paramDefaults(schema: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of paramFields(schema)) if (f.default !== undefined) out[f.name] = f.default;
  return out;
}

/** checkParam returns what is wrong with one value, or undefined. */
export function checkParam(f: ParamField, value: string | undefined): string | undefined {
  const v = value ?? "";
  if (v === "") return f.required ? `${f.title} is required` : undefined;
  if (f.enum && !f.enum.includes(v)) return `must be one of ${f.enum.join(", ")}`;
  if (f.type === "integer" || f.type === "number") {
    const n = Number(v);
    if (!Number.isFinite(n) || (f.type === "integer" && !Number.isInteger(n))) return `must be ${f.type === "integer" ? "a whole number" : "a number"}`;
    if (f.minimum !== undefined && n < f.minimum) return `must be at least ${f.minimum}`;
    if (f.maximum !== undefined && n > f.maximum) return `must be at most ${f.maximum}`;
    return undefined;
  }
  if (f.type === "boolean") return v === "true" || v === "false" ? undefined : "must be true or false";
  if (f.minLength !== undefined && v.length < f.minLength) return `must be at least ${f.minLength} characters`;
  if (f.maxLength !== undefined && v.length > f.maxLength) return `must be at most ${f.maxLength} characters`;
  if (f.format === "uri" && !/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(v)) return "must be a full URL such as https://llm.example.com/v1";
  if (f.pattern) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(f.pattern, "u");
    } catch {
      re = undefined;
    }
    if (re && !re.test(v)) return f.example ? `does not have the expected form, such as ${f.example}` : `must match ${f.pattern}`;
  }
  return undefined;
}

/** paramValue converts a form value to the schema's JSON type. */
export function paramValue(f: ParamField, v: string): unknown {
  if (f.type === "integer" || f.type === "number") return Number(v);
  if (f.type === "boolean") return v === "true";
  return v;
}
