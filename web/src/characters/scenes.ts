// Scenes: a prompt rendered with the character's LoRA and trigger word (READY only); each result shows the image,
// the seed used and the full prompt.
import { characters } from "../api";
import { field, h } from "../dom";
import { CharacterState, type Character } from "../gen/charactergen/v1/characters_pb";
import { act, imageFigure, numberBox, numberOf, renderFields, statusLine } from "./common";

export function scenesSection() {
  let id = "";
  const prompt = h("textarea", { name: "scene.prompt", rows: 2, required: true, placeholder: "in a forest at dawn" });
  const negative = h("input", { type: "text", name: "scene.negative", autocomplete: "off" });
  const strength = numberBox("scene.loraStrength", { min: 0, max: 2, step: 0.05, placeholder: "1.0" });
  const render = renderFields("scene");
  const submit = h("button", { type: "submit" }, "Render scene");
  const status = statusLine();
  const results = h("div", { className: "grid scenes", role: "list", "aria-label": "Scenes" });

  const form = h("form", {
    className: "scene", "aria-label": "Render a scene",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void act(submit, status, "Rendering the scene…", async () => {
        const scene = await characters.generateScene({
          characterId: id, prompt: prompt.value, negativePrompt: negative.value, render: render.value(), loraStrength: numberOf(strength),
        });
        const item = imageFigure(scene.image, `Scene: ${scene.prompt}`,
          h("span", { className: "seed" }, `seed ${scene.seed}`), h("span", { className: "prompt" }, scene.prompt));
        item.setAttribute("role", "listitem");
        results.prepend(item);
        return `Rendered with seed ${scene.seed}.`;
      });
    },
  }, field("Scene prompt", prompt), h("div", { className: "inputs" }, field("Negative prompt", negative), field("LoRA strength", strength)),
  render.element, submit);

  const element = h("section", { className: "step", "aria-labelledby": "scene-title" },
    h("h3", { id: "scene-title" }, "4. Scenes"),
    h("p", { className: "hint" }, "Once the character is ready: the trigger word is put before the prompt and the LoRA applied."),
    form, status.element, results);

  return {
    element,
    open(characterId: string) { id = characterId; status.say(""); results.replaceChildren(); },
    update(c: Character) { element.dataset.applies = String(c.state === CharacterState.READY); },
  };
}
