// Outputs: the history (gRPC ListJobs, filtered by state and text) and a gallery of the selected job's images with
// their prompt, seed and workflow (from ComfyUI's /api/history, downloadable as JSON that ComfyUI loads).
import { errorText, httpGet, imageUrl, workflows, type FileRef } from "./api";
import { field, h, type Screen } from "./dom";
import { JobState, type Job } from "./gen/charactergen/v1/workflows_pb";
import { describe, isApiFormat } from "./workflow";

const stateNames: Record<number, string> = {
  [JobState.PENDING]: "pending", [JobState.RUNNING]: "running", [JobState.SUCCEEDED]: "succeeded",
  [JobState.FAILED]: "failed", [JobState.CANCELLED]: "cancelled",
};

export function outputsScreen(): Screen & { show(jobId: string): Promise<void> } {
  const stateFilter = h("select", { name: "state" }, h("option", { value: "" }, "any"),
    ...Object.entries(stateNames).map(([value, name]) => h("option", { value }, name)));
  const textFilter = h("input", { type: "search", name: "filter", placeholder: "job id or prompt" });
  const history = h("ul", { className: "history", "aria-label": "Job history" });
  const gallery = h("div", { className: "gallery", "aria-label": "Gallery", role: "region" });
  const status = h("p", { className: "status", role: "status", "aria-live": "polite" });
  const element = h("section", { "aria-label": "Outputs" },
    h("div", { className: "filters" }, field("State", stateFilter), field("Search", textFilter)),
    status, h("div", { className: "outputs" }, history, gallery));
  const prompts = new Map<string, string>(); // job id → prompt text, for the text filter

  async function refresh() {
    try {
      const states = stateFilter.value ? [Number(stateFilter.value) as JobState] : [];
      const { jobs } = await workflows.listJobs({ states, pageSize: 100 });
      const text = textFilter.value.trim().toLowerCase();
      const shown = jobs.filter((job) => !text || job.jobId.includes(text) || (prompts.get(job.jobId) ?? "").toLowerCase().includes(text));
      history.replaceChildren(...shown.map(row));
      status.textContent = `${shown.length} job(s).`;
    } catch (error) {
      status.textContent = `Could not list jobs: ${errorText(error)}`;
    }
  }

  function row(job: Job): HTMLElement {
    const when = job.createdAt ? new Date(Number(job.createdAt.seconds) * 1000).toLocaleString() : "";
    return h("li", {}, h("button", { type: "button", onclick: () => show(job.jobId) },
      `${stateNames[job.state] ?? "?"} · ${when} · ${job.jobId.slice(0, 8)}`));
  }

  async function show(jobId: string) {
    gallery.replaceChildren(h("p", {}, "Loading…"));
    try {
      const { job } = await workflows.getJob({ jobId });
      const entry = (await (await httpGet(`/api/history/${encodeURIComponent(jobId)}`)).json())[jobId];
      const workflow = entry?.prompt?.[2];
      const { prompt, seed } = isApiFormat(workflow) ? describe(workflow) : { prompt: "", seed: "" };
      prompts.set(jobId, prompt);
      const files: FileRef[] = Object.values(job?.outputs ?? {}).flatMap((ui) =>
        Array.isArray(ui.images) ? (ui.images as unknown as FileRef[]) : []);
      const download = h("a", {
        href: URL.createObjectURL(new Blob([JSON.stringify(workflow ?? {}, null, 2)], { type: "application/json" })),
        download: `${jobId}.json`,
      }, "Download workflow (JSON)");
      const figures = await Promise.all(files.map(async (file) => h("figure", {},
        h("img", { src: await imageUrl(file), alt: `Output ${file.filename}`, className: "output" }),
        h("figcaption", {}, file.filename))));
      gallery.replaceChildren(
        h("dl", { className: "meta" }, h("dt", {}, "Job"), h("dd", {}, jobId), h("dt", {}, "State"),
          h("dd", {}, stateNames[job?.state ?? 0] ?? "?"), h("dt", {}, "Prompt"), h("dd", { className: "prompt" }, prompt),
          h("dt", {}, "Seed"), h("dd", { className: "seed" }, seed)),
        h("p", {}, download), ...(figures.length ? figures : [h("p", {}, "No images.")]));
    } catch (error) {
      gallery.replaceChildren(h("p", {}, `Could not load ${jobId}: ${error instanceof Error ? error.message : error}`));
    }
  }

  stateFilter.addEventListener("change", refresh);
  textFilter.addEventListener("input", refresh);
  return { element, refresh, show };
}
