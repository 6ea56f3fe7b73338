// Characters: every character with its state (newest first), and the form that creates one from a description and,
// optionally, a photo (uploaded to the Assets service, then rendered img2img).
import { characters, models } from "../api";
import { field, h, type Screen } from "../dom";
import { uploadImage } from "../images";
import type { Character } from "../gen/charactergen/v1/characters_pb";
import { act, numberBox, numberOf, renderFields, stateName, statusLine } from "./common";

export function charactersScreen(onCreated: (characterId: string) => void): Screen {
  const name = h("input", { type: "text", name: "name", maxLength: 200, autocomplete: "off" });
  const description = h("textarea", { name: "description", rows: 2, required: true, placeholder: "a knight with red hair" });
  const negative = h("input", { type: "text", name: "negative", autocomplete: "off" });
  const photo = h("input", { type: "file", name: "photo", accept: "image/png,image/jpeg" });
  const strength = numberBox("photoStrength", { min: 0, max: 1, step: 0.05, placeholder: "default" });
  const checkpoint = h("select", { name: "checkpoint" }, h("option", { value: "" }, "(server default)"));
  const render = renderFields("create");
  const submit = h("button", { type: "submit" }, "Create");
  const status = statusLine();
  const list = h("ul", { className: "characters", "aria-label": "Characters" });
  const listStatus = statusLine();

  const form = h("form", {
    className: "create", "aria-label": "New character",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void act(submit, status, photo.files?.length ? "Uploading the photo…" : "Rendering the first base image…", async () => {
        const file = photo.files?.[0];
        const assetId = file ? await uploadImage(file) : "";
        if (file) status.say("Rendering the first base image from the photo…");
        const { character } = await characters.create({
          description: description.value, name: name.value, negativePrompt: negative.value, checkpoint: checkpoint.value,
          photo: assetId ? { source: { case: "assetId", value: assetId } } : undefined,
          photoStrength: numberOf(strength), render: render.value(),
        });
        form.reset();
        onCreated(character!.characterId);
        return `Created ${character!.characterId}.`;
      });
    },
  }, h("h2", {}, "New character"),
  field("Description", description), h("div", { className: "inputs" }, field("Name", name), field("Negative prompt", negative),
    field("Checkpoint", checkpoint)),
  h("div", { className: "inputs" }, field("Photo (optional, PNG or JPEG)", photo), field("Photo strength (0–1)", strength)),
  render.element, submit, status.element);

  function row(c: Character): HTMLElement {
    return h("li", { "data-state": stateName(c.state) },
      h("a", { href: `#/characters/${c.characterId}` }, c.name || c.description.slice(0, 60) || c.characterId),
      h("span", { className: "state" }, stateName(c.state)),
      h("span", { className: "count" }, `${c.trainingImageCount} training image(s)`));
  }

  const refresh = async () => {
    try {
      const { characters: found } = await characters.list({ pageSize: 200 });
      list.replaceChildren(...found.map(row));
      listStatus.say(found.length ? `${found.length} character(s).` : "No characters yet: create one.");
    } catch (error) {
      listStatus.refused(error);
    }
    const { folders } = await models.list({});
    const names = folders.find((f) => f.kind === "checkpoints")?.files.map((f) => f.name) ?? [];
    const chosen = checkpoint.value;
    checkpoint.replaceChildren(checkpoint.options[0], ...names.map((n) => h("option", { value: n, selected: n === chosen }, n)));
  };

  const element = h("section", { "aria-label": "Characters", className: "characters-screen" },
    h("h2", {}, "Characters"), listStatus.element, list, form);
  return { element, refresh };
}
