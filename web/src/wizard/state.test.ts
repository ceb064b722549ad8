import { describe, expect, it } from "vitest";
import { initialState, localField, reducer, slugify, stepErrors, type Action, type WizardState } from "./state";
import { azure, compatible } from "./fixtures";
import { checkParam, paramFields } from "./schema";

const run = (...actions: Action[]) => actions.reduce(reducer, initialState);
const from = (s: WizardState, ...actions: Action[]) => actions.reduce(reducer, s);

describe("wizard state", () => {
  it("keeps every input going back and forth", () => {
    let s: WizardState = run(
      { type: "template", template: azure },
      { type: "field", field: "name", value: "Azure EU" },
      { type: "param", name: "resource", value: "contoso-eu" },
      { type: "next" },
      { type: "secret", name: "api_key", value: "sk-typed" },
    );
    expect(s.step).toBe(2);
    s = from(s, { type: "back" }, { type: "back" }, { type: "next" }, { type: "next" });
    expect(s.step).toBe(2);
    expect(s.params).toEqual({ api_version: "2024-10-21", resource: "contoso-eu" });
    expect(s.secrets.api_key).toBe("sk-typed");
    expect(s.name).toBe("Azure EU");
    expect(s.slug).toBe("azure-eu");
    // Choosing the same template again from the gallery keeps it all too.
    s = from(s, { type: "goto", step: 0 }, { type: "template", template: azure });
    expect(s.step).toBe(1);
    expect(s.params.resource).toBe("contoso-eu");
    expect(s.secrets.api_key).toBe("sk-typed");
  });

  it("starts over with another template's defaults but keeps a typed slug", () => {
    const s = run(
      { type: "template", template: azure },
      { type: "field", field: "slug", value: "my-slug" },
      { type: "param", name: "resource", value: "x" },
      { type: "template", template: compatible },
    );
    expect(s.template?.slug).toBe("openai-compatible");
    expect(s.params).toEqual({});
    expect(s.slug).toBe("my-slug");
  });

  it("does not move on while a step has errors, and says what is wrong", () => {
    let s = run({ type: "template", template: azure }, { type: "field", field: "name", value: "" }, { type: "param", name: "resource", value: "Not Valid!" }, { type: "next" });
    expect(s.step).toBe(1);
    expect(s.showErrors).toBe(true);
    expect(stepErrors(s)).toEqual({
      name: "Name is required",
      slug: "Slug is required",
      "params.resource": "does not have the expected form, such as my-openai-resource",
    });
    s = from(s, { type: "field", field: "name", value: "Azure" }, { type: "param", name: "resource", value: "contoso" }, { type: "next" });
    expect(s.step).toBe(2);
    expect(s.showErrors).toBe(false);
    s = reducer(s, { type: "next" });
    expect(stepErrors(s)).toEqual({ "secrets.api_key": "API key is required" });
  });

  it("asks for at least one model when the template lists some", () => {
    const s = { ...run({ type: "template", template: azure }), step: 4 as const };
    expect(stepErrors(s)).toEqual({ models: "Choose at least one model" });
    expect(stepErrors(reducer(s, { type: "toggleModel", id: "gpt-4o" }))).toEqual({});
    expect(stepErrors({ ...run({ type: "template", template: compatible }), step: 4 })).toEqual({});
  });

  it("clears the connectivity result when the credentials change", () => {
    let s = run({ type: "template", template: compatible }, { type: "test", result: { at: "", ok: true, models: 1, stages: [] } });
    expect(s.test).not.toBeNull();
    s = reducer(s, { type: "secret", name: "api_key", value: "other" });
    expect(s.test).toBeNull();
  });

  it("checks blank providers' base URL", () => {
    const s = run({ type: "blank" }, { type: "field", field: "name", value: "Local" }, { type: "field", field: "baseUrl", value: "localhost:8000" }, { type: "next" });
    expect(stepErrors(s)).toEqual({ base_url: "must be an http or https URL such as https://llm.example.com/v1" });
  });

  it("maps the server's field paths to the wizard's", () => {
    expect(localField("credentials[0].secrets.api_key")).toBe("secrets.api_key");
    expect(localField("params.resource")).toBe("params.resource");
  });

  it("makes slugs from names", () => {
    expect(slugify("  Azure OpenAI (EU)  ")).toBe("azure-openai-eu");
    expect(slugify("Ünïcode—Name")).toBe("unicode-name");
  });
});

describe("parameter schema", () => {
  it("lists required fields first with their titles and defaults", () => {
    const f = paramFields(azure.parameters);
    expect(f.map((x) => [x.name, x.title, x.required, x.default])).toEqual([
      ["resource", "Resource name", true, undefined],
      ["api_version", "API version", false, "2024-10-21"],
    ]);
  });
  it("checks values against the schema", () => {
    const [baseUrl] = paramFields(compatible.parameters);
    expect(checkParam(baseUrl, "")).toBe("Base URL is required");
    expect(checkParam(baseUrl, "not a url")).toBe("must be a full URL such as https://llm.example.com/v1");
    expect(checkParam(baseUrl, "http://127.0.0.1:9999/v1")).toBeUndefined();
    const n = { name: "n", title: "N", type: "integer" as const, required: false, minimum: 1, maximum: 5 };
    expect(checkParam(n, "1.5")).toBe("must be a whole number");
    expect(checkParam(n, "9")).toBe("must be at most 5");
    expect(checkParam({ ...n, type: "string", enum: ["a", "b"] }, "c")).toBe("must be one of a, b");
  });
});
