// One character: its state and the four steps of the flow (base image, training set, train, scenes), kept current by
// a Watch stream while the screen is shown (snapshot, state changes, per-image and per-step progress).
import { characters, errorText } from "../api";
import { h } from "../dom";
import { CharacterState, type Character, type CharacterEvent } from "../gen/charactergen/v1/characters_pb";
import { baseSection } from "./base";
import { stateName } from "./common";
import { scenesSection } from "./scenes";
import { trainingSection } from "./training";
import { trainingSetSection } from "./trainingSet";

export function characterScreen() {
  const title = h("h2", {}, "Character");
  const state = h("p", { className: "state-line", role: "status", "aria-live": "polite" });
  const error = h("p", { className: "status error", role: "alert", hidden: true });
  const facts = h("dl", { className: "meta" });
  const stream = h("p", { className: "status" });
  const changed = (c: Character) => show(c);
  const base = baseSection(changed);
  const set = trainingSetSection(changed);
  const training = trainingSection(changed);
  const scenes = scenesSection();
  const element = h("section", { "aria-label": "Character", className: "character" },
    h("p", {}, h("a", { href: "#/characters" }, "← All characters")), title, state, error, facts, stream,
    base.element, set.element, training.element, scenes.element);
  let id = "";
  let watching: AbortController | undefined;
  let shown: CharacterState | undefined;

  function show(c: Character) {
    title.textContent = c.name || "Character";
    element.dataset.state = stateName(c.state);
    state.textContent = `State: ${stateName(c.state)}`;
    error.hidden = !c.errorMessage;
    error.textContent = c.errorMessage ? `Error: ${c.errorMessage}` : "";
    facts.replaceChildren(
      h("dt", {}, "Id"), h("dd", {}, c.characterId), h("dt", {}, "Description"), h("dd", {}, c.description),
      h("dt", {}, "Checkpoint"), h("dd", {}, c.checkpoint), h("dt", {}, "Trigger word"), h("dd", {}, c.triggerWord));
    for (const section of [base, set, training, scenes]) section.update(c);
    // Leaving GENERATING_TRAINING (done, cancelled or failed): the server's list is the truth.
    if (shown === CharacterState.GENERATING_TRAINING && c.state !== shown) void set.reload();
    shown = c.state;
  }

  async function handle(event: CharacterEvent) {
    const e = event.event;
    switch (e.case) {
      case "snapshot":
        show(e.value);
        if (e.value.state === CharacterState.TRAINING && e.value.training?.progress) training.progress(e.value.training.progress);
        break;
      case "stateChanged": show(await characters.get({ characterId: id })); break;
      case "trainingSetProgress": set.progress(e.value); break;
      case "trainingProgress": training.progress(e.value); break;
    }
  }

  /** Follows the character until the screen is left; a broken stream is joined again after a pause. */
  async function watch(characterId: string, signal: AbortSignal) {
    while (!signal.aborted) {
      try {
        for await (const event of characters.watch({ characterId }, { signal })) await handle(event);
      } catch (e) {
        if (signal.aborted) return;
        stream.textContent = `Lost the character's updates (${errorText(e)}); trying again…`;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  return {
    element,
    async open(characterId: string) {
      watching?.abort();
      id = characterId;
      shown = undefined;
      stream.textContent = "";
      training.open(id);
      scenes.open(id);
      try {
        show(await characters.get({ characterId: id }));
        await Promise.all([base.open(id), set.open(id)]);
      } catch (e) {
        error.hidden = false;
        error.textContent = `Could not load ${characterId}: ${errorText(e)}`;
        return;
      }
      watching = new AbortController();
      void watch(id, watching.signal);
    },
    leave() { watching?.abort(); watching = undefined; },
  };
}
