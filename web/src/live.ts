// Live: one job's progress as it streams (gRPC-Web Watch): a bar per node and per step, elapsed and ETA, latent
// previews as they arrive, a loss chart for training, and cancel.
import { errorText, workflows } from "./api";
import { h, formatSeconds, type Screen } from "./dom";
import { LossChart } from "./chart";
import type { JobEvent } from "./gen/charactergen/v1/workflows_pb";

export function liveScreen(onFinished: (jobId: string) => void): Screen & { watch(jobId: string): void } {
  const title = h("h2", {}, "No job yet: run one first.");
  const state = h("p", { className: "status", role: "status", "aria-live": "polite" });
  const times = h("p", { className: "times" });
  const nodes = h("ol", { className: "nodes", "aria-label": "Nodes" });
  const preview = h("img", { className: "preview", alt: "Latest preview", hidden: true });
  const cancel = h("button", { type: "button", disabled: true }, "Cancel");
  const chartSlot = h("div");
  const element = h("section", { "aria-label": "Live progress" }, title, state, times, cancel, h("div", { className: "live" }, nodes, preview), chartSlot);
  let current = "";
  let previewUrl = "";

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    // Said before the call: the stream's "cancelled" event may arrive before the call returns, and must win.
    state.textContent = "Cancelling…";
    try { await workflows.cancel({ jobId: current }); }
    catch (error) { state.textContent = `Cancel failed: ${errorText(error)}`; }
  });

  async function watch(jobId: string) {
    current = jobId;
    title.textContent = `Job ${jobId}`;
    nodes.replaceChildren();
    chartSlot.replaceChildren();
    preview.hidden = true;
    cancel.disabled = false;
    state.textContent = "Waiting…";
    const bars = new Map<string, HTMLProgressElement>();
    let started = 0, stepStarted = 0, chart: LossChart | undefined;
    const tick = setInterval(() => { if (started) times.textContent = `Elapsed ${formatSeconds((Date.now() - started) / 1000)}` + eta; }, 500);
    let eta = "";

    const bar = (node: string, label: string) => {
      let progress = bars.get(node);
      if (!progress) {
        progress = h("progress", { max: 1, value: 0, id: `node-${node}` });
        bars.set(node, progress);
        nodes.append(h("li", { "data-node": node }, h("label", { htmlFor: progress.id }, label), progress));
      }
      return progress;
    };
    const handle = (event: JobEvent) => {
      const e = event.event;
      switch (e.case) {
        case "queued": state.textContent = `Queued: ${e.value.position} job(s) ahead.`; break;
        case "started": started = Date.now(); state.textContent = "Running."; break;
        case "nodeStarted": bar(e.value.nodeId, `${e.value.classType} (${e.value.nodeId})`); stepStarted = Date.now(); break;
        case "nodeProgress": {
          const p = e.value, progress = bar(p.nodeId, p.nodeId);
          progress.max = p.max || 1;
          progress.value = p.value;
          progress.setAttribute("aria-valuetext", `step ${p.value} of ${p.max}`);
          const perStep = (Date.now() - stepStarted) / 1000 / Math.max(1, p.value);
          eta = p.training ? ` · ETA ${formatSeconds(p.training.etaSeconds)}` : ` · ETA ${formatSeconds(perStep * (p.max - p.value))}`;
          if (p.preview.length) {
            URL.revokeObjectURL(previewUrl);
            previewUrl = URL.createObjectURL(new Blob([p.preview as Uint8Array<ArrayBuffer>]));
            preview.src = previewUrl;
            preview.hidden = false;
            preview.dataset.count = String(Number(preview.dataset.count ?? 0) + 1);
          }
          if (p.training) {
            if (!chart) chartSlot.append((chart = new LossChart()).element);
            chart.add(p.training.step, p.training.loss, p.training.smoothedLoss);
          }
          break;
        }
        case "nodeFinished": { const progress = bar(e.value.nodeId, `${e.value.classType} (${e.value.nodeId})`); progress.value = progress.max; break; }
        case "succeeded": state.textContent = "Succeeded."; break;
        case "failed": state.textContent = `Failed in ${e.value.classType} (${e.value.nodeId}): ${e.value.message}`; break;
        case "cancelled": state.textContent = "Cancelled."; break;
      }
    };
    try {
      for await (const event of workflows.watch({ jobId })) {
        if (current !== jobId) return; // another job took over the screen
        handle(event);
      }
      eta = "";
      if (current === jobId) onFinished(jobId);
    } catch (error) {
      state.textContent = `Lost the job's stream: ${errorText(error)}`;
    } finally {
      clearInterval(tick);
      if (current === jobId) cancel.disabled = true;
    }
  }

  return { element, watch: (jobId) => void watch(jobId) };
}
