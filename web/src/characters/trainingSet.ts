// Training set: generate N variations of the approved base image (custom prompts first, then the built-in ones) with
// per-image progress; view, regenerate (optionally with a new prompt) or delete single images.
import { characters } from "../api";
import { field, h } from "../dom";
import { assetUrl } from "../images";
import { CharacterState, type Character, type TrainingImage, type TrainingSetProgress } from "../gen/charactergen/v1/characters_pb";
import { act, imageFigure, numberBox, numberOf, statusLine } from "./common";

export function trainingSetSection(changed: (c: Character) => void) {
  let id = "";
  const count = numberBox("set.count", { min: 1, max: 100, step: 1, placeholder: "10" });
  const prompts = h("textarea", { name: "set.prompts", rows: 3, placeholder: "one variation prompt per line (optional)" });
  const strength = numberBox("set.strength", { min: 0, max: 1, step: 0.05, placeholder: "default" });
  const generate = h("button", { type: "submit" }, "Generate training set");
  const status = statusLine();
  const bar = h("progress", { id: "set-progress", max: 1, value: 0 });
  const progressText = h("span", { className: "progress-text" });
  const grid = h("div", { className: "grid training", role: "list", "aria-label": "Training images" });
  const viewer = imageViewer();
  let running = false; // the status line says "Rendering…" until the set is done

  const form = h("form", {
    className: "training-set", "aria-label": "Generate the training set",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void act(generate, status, "Starting…", async () => {
        const customPrompts = prompts.value.split("\n").map((p) => p.trim()).filter(Boolean);
        const c = await characters.generateTrainingSet({ characterId: id, count: numberOf(count), customPrompts, variationStrength: numberOf(strength) });
        grid.replaceChildren(); // a new set replaces the old one
        running = true;
        changed(c);
        return `Rendering ${c.trainingSetTotal} image(s)…`;
      });
    },
  }, h("div", { className: "inputs" }, field("Images (N)", count), field("Variation strength (0–1)", strength)),
  field("Custom variation prompts (built-in prompts fill the rest)", prompts), generate);

  function figure(image: TrainingImage): HTMLElement {
    const newPrompt = h("input", { type: "text", name: `prompt-${image.trainingImageId}`, placeholder: "keep the prompt", "aria-label": `New prompt for image ${image.index}` });
    const regenerate = h("button", { type: "button" }, "Regenerate");
    const remove = h("button", { type: "button" }, "Delete");
    const view = h("button", { type: "button" }, "View");
    regenerate.addEventListener("click", () => act(regenerate, status, `Rendering image ${image.index} again…`, async () => {
      const redone = await characters.regenerateTrainingImage({ characterId: id, trainingImageId: image.trainingImageId, prompt: newPrompt.value });
      item.replaceWith(figure(redone));
      return `Image ${image.index} rendered again with seed ${redone.seed}.`;
    }));
    remove.addEventListener("click", () => act(remove, status, `Deleting image ${image.index}…`, async () => {
      const { character } = await characters.deleteTrainingImage({ characterId: id, trainingImageId: image.trainingImageId });
      item.remove();
      changed(character!);
      return `Image ${image.index} deleted.`;
    }));
    view.addEventListener("click", () => viewer.show(image));
    const item = imageFigure(image.image, `Training image ${image.index}`,
      h("span", { className: "seed" }, `#${image.index} · seed ${image.seed}`), h("span", { className: "prompt" }, image.prompt),
      newPrompt, h("span", { className: "buttons" }, view, regenerate, remove));
    item.setAttribute("role", "listitem");
    item.dataset.image = image.trainingImageId;
    return item;
  }

  async function load() {
    const { trainingImages } = await characters.listTrainingImages({ characterId: id });
    grid.replaceChildren(...trainingImages.map(figure));
  }

  const element = h("section", { className: "step", "aria-labelledby": "set-title" },
    h("h3", { id: "set-title" }, "2. Training set"),
    h("p", { className: "hint" }, "Variations of the approved base image; curate them before training."),
    form, h("div", { className: "progress-row" }, h("label", { htmlFor: bar.id }, "Rendered"), bar, progressText),
    status.element, grid, viewer.element);

  return {
    element,
    async open(characterId: string) { id = characterId; status.say(""); await load(); },
    reload: load,
    update(c: Character) {
      element.dataset.applies = String([CharacterState.BASE_APPROVED, CharacterState.GENERATING_TRAINING, CharacterState.ERROR].includes(c.state));
      if (running && c.state !== CharacterState.GENERATING_TRAINING) {
        running = false;
        status.say(c.state === CharacterState.ERROR ? "" : `Training set done: ${c.trainingImageCount} image(s).`);
      }
      if (c.state === CharacterState.GENERATING_TRAINING || c.trainingSetTotal > 0) showProgress(c.trainingSetDone, c.trainingSetTotal);
      else showProgress(c.trainingImageCount, c.trainingImageCount);
    },
    /** One image rendered (Watch): the bar moves and the image joins the grid. */
    progress(p: TrainingSetProgress) {
      showProgress(p.done, p.total);
      if (p.image && !grid.querySelector(`[data-image="${p.image.trainingImageId}"]`)) grid.append(figure(p.image));
    },
  };

  function showProgress(done: number, total: number) {
    bar.max = Math.max(1, total);
    bar.value = done;
    bar.setAttribute("aria-valuetext", `${done} of ${total} images`);
    progressText.textContent = `${done} of ${total}`;
  }
}

/** A dialog with one training image at a larger size, its prompt and seed (Escape or Close shuts it). */
function imageViewer() {
  const img = h("img", { alt: "", className: "large" });
  const caption = h("p", {});
  const close = h("button", { type: "button", onclick: () => element.close() }, "Close");
  const element = h("dialog", { className: "viewer", "aria-label": "Training image" }, img, caption, close);
  return {
    element,
    async show(image: TrainingImage) {
      img.alt = `Training image ${image.index}`;
      caption.textContent = `#${image.index} · seed ${image.seed} · ${image.prompt}`;
      element.showModal();
      if (image.image) img.src = await assetUrl(image.image.assetId);
    },
  };
}
