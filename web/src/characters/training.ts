// Train: the LoRA's rank, alpha, steps and learning rate; live progress (step, loss chart, ETA) from Watch; cancel.
import { characters } from "../api";
import { LossChart } from "../chart";
import { field, formatSeconds, h } from "../dom";
import { CharacterState, type Character } from "../gen/charactergen/v1/characters_pb";
import type { TrainingProgress } from "../gen/charactergen/v1/workflows_pb";
import { act, numberBox, numberOf, statusLine } from "./common";

export function trainingSection(changed: (c: Character) => void) {
  let id = "";
  const rank = numberBox("train.rank", { min: 1, max: 1024, step: 1, placeholder: "16" });
  const alpha = numberBox("train.alpha", { min: 0, placeholder: "32" });
  const steps = numberBox("train.steps", { min: 1, step: 1, placeholder: "default" });
  const rate = numberBox("train.learningRate", { min: 0, max: 1, placeholder: "0.0001" });
  const train = h("button", { type: "submit" }, "Train");
  const cancel = h("button", { type: "button" }, "Cancel training");
  const status = statusLine();
  const bar = h("progress", { id: "train-progress", max: 1, value: 0 });
  const progressText = h("span", { className: "progress-text" });
  const lora = h("p", { className: "lora" });
  let chart = new LossChart();
  let lastStep = 0; // a rejoined Watch repeats the last step in its snapshot
  let running = false; // the status line says "Training…" until the state moves on
  const chartSlot = h("div", {}, chart.element);

  const form = h("form", {
    className: "train", "aria-label": "Train the LoRA",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void act(train, status, "Starting…", async () => {
        const c = await characters.train({
          characterId: id, rank: numberOf(rank), alpha: numberOf(alpha), steps: numberOf(steps), learningRate: numberOf(rate),
        });
        chartSlot.replaceChildren((chart = new LossChart()).element);
        lastStep = 0;
        running = true;
        changed(c);
        return `Training ${c.training?.steps ?? "?"} steps…`;
      });
    },
  }, h("div", { className: "inputs" }, field("Rank", rank), field("Alpha", alpha), field("Steps", steps), field("Learning rate", rate)),
  h("span", { className: "buttons" }, train, cancel));
  cancel.addEventListener("click", () => act(cancel, status, "Cancelling…", async () => {
    changed(await characters.cancelTraining({ characterId: id }));
    return "Cancelled: a later Train resumes from the last checkpoint.";
  }));

  function showProgress(p: TrainingProgress) {
    bar.max = Math.max(1, p.totalSteps);
    bar.value = p.step;
    bar.setAttribute("aria-valuetext", `step ${p.step} of ${p.totalSteps}`);
    progressText.textContent = `Step ${p.step} of ${p.totalSteps} · loss ${p.loss.toFixed(4)} (smoothed ${p.smoothedLoss.toFixed(4)}) · ` +
      `${p.imagesPerSecond.toFixed(2)} images/s · ETA ${formatSeconds(p.etaSeconds)}`;
  }

  const element = h("section", { className: "step", "aria-labelledby": "train-title" },
    h("h3", { id: "train-title" }, "3. Train"),
    h("p", { className: "hint" }, "Trains the character's LoRA on the training set (the server needs at least 5 images unless configured otherwise); blank fields take the defaults."),
    form, h("div", { className: "progress-row" }, h("label", { htmlFor: bar.id }, "Steps"), bar, progressText),
    chartSlot, lora, status.element);

  return {
    element,
    open(characterId: string) {
      id = characterId;
      status.say("");
      chartSlot.replaceChildren((chart = new LossChart()).element);
      lastStep = 0;
    },
    update(c: Character) {
      element.dataset.applies = String([CharacterState.BASE_APPROVED, CharacterState.TRAINING, CharacterState.READY, CharacterState.ERROR].includes(c.state));
      if (c.training?.progress) showProgress(c.training.progress);
      else { bar.value = 0; progressText.textContent = c.training ? "Waiting for the first step…" : "Not trained yet."; }
      if (running && c.state !== CharacterState.TRAINING) {
        running = false;
        status.say(c.state === CharacterState.READY ? "Trained: the LoRA is saved and scenes can be rendered." : "Training stopped.");
      }
      lora.textContent = c.loraName ? `LoRA: ${c.loraName} (trigger word ${c.triggerWord})` : "";
    },
    /** A training step finished (Watch): the bar, the text and the chart move on. */
    progress(p: TrainingProgress) {
      showProgress(p);
      if (p.step < lastStep) chartSlot.replaceChildren((chart = new LossChart()).element); // another run began
      if (p.step > lastStep) chart.add(p.step, p.loss, p.smoothedLoss);
      lastStep = p.step;
    },
  };
}
