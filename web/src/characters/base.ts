// Base image: every kept candidate with the seed and prompt it was rendered from, Regenerate (a new seed unless one
// is given; optionally a new description) and Approve.
import { characters } from "../api";
import { field, h } from "../dom";
import { CharacterState, type Candidate, type Character } from "../gen/charactergen/v1/characters_pb";
import { act, imageFigure, renderFields, statusLine } from "./common";

export function baseSection(changed: (c: Character) => void) {
  let id = "";
  const grid = h("div", { className: "grid candidates", role: "list", "aria-label": "Base-image candidates" });
  const status = statusLine();
  const description = h("textarea", { name: "regenerate.description", rows: 2, placeholder: "keep the description" });
  const render = renderFields("regenerate");
  const regenerate = h("button", { type: "submit" }, "Regenerate");
  const form = h("form", {
    className: "regenerate", "aria-label": "Regenerate the base image",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void act(regenerate, status, "Rendering another candidate…", async () => {
        const { character, candidate } = await characters.regenerate({ characterId: id, description: description.value, render: render.value() });
        description.value = "";
        grid.append(figure(candidate!));
        changed(character!);
        return `New candidate with seed ${candidate!.seed}.`;
      });
    },
  }, field("New description (optional)", description), render.element, regenerate);

  function figure(candidate: Candidate): HTMLElement {
    const approve = h("button", { type: "button", className: "approve" }, candidate.approved ? "Approved" : "Approve");
    approve.addEventListener("click", () => act(approve, status, "Approving…", async () => {
      changed(await characters.approve({ characterId: id, candidateId: candidate.candidateId }));
      await load();
      return "Base image approved: generate the training set next.";
    }));
    const item = imageFigure(candidate.image, `Candidate, seed ${candidate.seed}`,
      h("span", { className: "seed" }, `seed ${candidate.seed}`), h("span", { className: "prompt" }, candidate.prompt), approve);
    item.setAttribute("role", "listitem");
    item.dataset.candidate = candidate.candidateId;
    item.classList.toggle("approved", candidate.approved);
    return item;
  }

  async function load() {
    const { candidates } = await characters.listCandidates({ characterId: id });
    grid.replaceChildren(...candidates.map(figure));
  }

  const element = h("section", { className: "step", "aria-labelledby": "base-title" },
    h("h3", { id: "base-title" }, "1. Base image"),
    h("p", { className: "hint" }, "Render candidates until one fits, then approve it (while the character is initial)."),
    grid, form, status.element);

  return {
    element,
    async open(characterId: string) { id = characterId; status.say(""); await load(); },
    update(c: Character) { element.dataset.applies = String(c.state === CharacterState.INITIAL); },
  };
}
