// ComfyUI workflow JSON (API format) and the common inputs the Run screen lets people edit.
export type ApiWorkflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title?: string } }>;

/** One editable input: node id, input name, what kind of control it gets. */
export interface CommonInput {
  node: string;
  input: string;
  label: string;
  kind: "text" | "seed" | "int" | "float" | "checkpoint" | "lora";
  value: string | number;
}

const numeric: Record<string, "int" | "float"> = { steps: "int", cfg: "float", width: "int", height: "int", denoise: "float", batch_size: "int" };

/** API format: an object of node ids to {class_type, inputs}. UI format (nodes/links) is sent as is; the server converts it. */
export function isApiFormat(json: unknown): json is ApiWorkflow {
  return typeof json === "object" && json !== null && !Array.isArray(json) && !("nodes" in json) &&
    Object.values(json).every((node) => typeof node === "object" && node !== null && "class_type" in node);
}

/** The inputs worth a control: prompt texts, seeds, sampler numbers, sizes, checkpoint and LoRA names (literals only, not links). */
export function commonInputs(workflow: ApiWorkflow): CommonInput[] {
  const found: CommonInput[] = [];
  const ids = Object.keys(workflow).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const node of ids) {
    const { class_type: type, inputs } = workflow[node];
    const title = workflow[node]._meta?.title ?? type;
    for (const [input, value] of Object.entries(inputs)) {
      if (Array.isArray(value)) continue; // a link to another node's output
      const label = `${title} (${node}) · ${input}`;
      if (input === "text" && typeof value === "string") found.push({ node, input, label, kind: "text", value });
      else if ((input === "seed" || input === "noise_seed") && typeof value === "number") found.push({ node, input, label, kind: "seed", value });
      else if (input in numeric && typeof value === "number") found.push({ node, input, label, kind: numeric[input], value });
      else if (input === "ckpt_name" && typeof value === "string") found.push({ node, input, label, kind: "checkpoint", value });
      else if (input === "lora_name" && typeof value === "string") found.push({ node, input, label, kind: "lora", value });
    }
  }
  return found;
}

/** The first prompt text and seed, for the gallery's captions. */
export function describe(workflow: ApiWorkflow): { prompt: string; seed: string } {
  const inputs = commonInputs(workflow);
  return {
    prompt: String(inputs.find((i) => i.kind === "text")?.value ?? ""),
    seed: String(inputs.find((i) => i.kind === "seed")?.value ?? ""),
  };
}

/** ComfyUI seeds are 0 … 2^64-1; a random one that a JavaScript number holds exactly. */
export const randomSeed = () => Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
