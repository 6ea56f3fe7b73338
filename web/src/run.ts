// Run: pick a saved workflow or paste/drop ComfyUI JSON, edit its common inputs, submit, see the queue position.
import { errorText, httpGet, models, workflows } from "./api";
import { field, h, type Screen } from "./dom";
import { commonInputs, isApiFormat, randomSeed, type ApiWorkflow, type CommonInput } from "./workflow";

export function runScreen(onSubmitted: (jobId: string) => void): Screen {
  const saved = h("select", { name: "saved" }, h("option", { value: "" }, "(paste or drop JSON below)"));
  const json = h("textarea", { name: "workflow", rows: 8, spellcheck: false, placeholder: "ComfyUI workflow JSON (API or UI format)" });
  const inputs = h("div", { className: "inputs" });
  const status = h("p", { className: "status", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Run");
  let modelNames: Record<string, string[]> = {};

  const load = (text: string) => { json.value = text; showInputs(); };
  saved.addEventListener("change", async () => {
    const name = saved.value;
    if (!name) return;
    try {
      const text = await (await httpGet(`/api/workflows/${encodeURI(name)}`)).text();
      if (saved.value === name) load(text); // typing a name moves through several choices; only the last one loads
    } catch (error) { status.textContent = `Could not load ${name}: ${error}`; }
  });
  json.addEventListener("input", showInputs);
  json.addEventListener("dragover", (event) => event.preventDefault());
  json.addEventListener("drop", async (event) => {
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    load(await file.text());
  });

  function parsed(): unknown {
    try { return JSON.parse(json.value); } catch { return undefined; }
  }

  function control(input: CommonInput): HTMLElement {
    const name = `${input.node}.${input.input}`;
    if (input.kind === "text") return field(input.label, h("textarea", { name, rows: 2, value: String(input.value) }));
    if (input.kind === "checkpoint" || input.kind === "lora") {
      const names = modelNames[input.kind === "checkpoint" ? "checkpoints" : "loras"] ?? [];
      const options = [...new Set([String(input.value), ...names])].map((n) => h("option", { value: n, selected: n === input.value }, n));
      return field(input.label, h("select", { name }, ...options));
    }
    const box = h("input", { name, type: "number", value: String(input.value), step: input.kind === "float" ? "any" : "1", min: input.kind === "seed" ? "0" : undefined });
    if (input.kind !== "seed") return field(input.label, box);
    const random = h("input", { type: "checkbox", name: `${name}:randomise`, id: `${name}:randomise` });
    return field(input.label, box, h("span", { className: "inline" }, random, h("label", { htmlFor: random.id }, "randomise")));
  }

  function showInputs() {
    const workflow = parsed();
    inputs.replaceChildren();
    if (json.value.trim() && workflow === undefined) { status.textContent = "Not valid JSON."; return; }
    status.textContent = "";
    if (isApiFormat(workflow)) inputs.append(...commonInputs(workflow).map(control));
    else if (workflow) inputs.append(h("p", {}, "UI-format workflow: sent as is, the server converts it."));
  }

  /** The workflow with the form's values (and fresh random seeds) written into it. */
  function edited(): string {
    const workflow = parsed();
    if (!isApiFormat(workflow)) return json.value;
    const copy: ApiWorkflow = structuredClone(workflow);
    for (const input of commonInputs(copy)) {
      const name = `${input.node}.${input.input}`;
      const element = form.elements.namedItem(name) as HTMLInputElement | null;
      if (!element) continue;
      if (input.kind === "seed" && (form.elements.namedItem(`${name}:randomise`) as HTMLInputElement).checked)
        element.value = String(randomSeed());
      copy[input.node].inputs[input.input] = input.kind === "text" || input.kind === "checkpoint" || input.kind === "lora"
        ? element.value : Number(element.value);
    }
    return JSON.stringify(copy);
  }

  const form = h("form", {
    className: "run", "aria-label": "Run a workflow",
    onsubmit: async (event: Event) => {
      event.preventDefault();
      submit.disabled = true;
      status.textContent = "Submitting…";
      try {
        const response = await workflows.submit({ workflow: { workflow: { case: "workflowJson", value: edited() } } });
        status.textContent = `Queued as ${response.jobId}: ${response.queuePosition} job(s) ahead.`;
        onSubmitted(response.jobId);
      } catch (error) {
        status.textContent = `Refused: ${errorText(error)}`;
      } finally {
        submit.disabled = false;
      }
    },
  }, field("Saved workflow", saved), field("Workflow JSON", json), inputs, submit, status);

  /** Fills the saved-workflow and model lists; called once the page may read data. */
  const refresh = async () => {
    const names: string[] = await (await httpGet("/api/workflows")).json();
    saved.replaceChildren(saved.options[0], ...names.map((n) => h("option", { value: n }, n)));
    const list = await models.list({});
    modelNames = Object.fromEntries(list.folders.map((f) => [f.kind, f.files.map((file) => file.name)]));
    showInputs();
  };
  return { element: form, refresh };
}
