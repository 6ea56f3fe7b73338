// The page: a key prompt when the server wants one, then the screens (Run, Live, Outputs, Characters and one
// character) switched by the URL hash.
import { apiKey, isUnauthenticated, models } from "./api";
import { characterScreen } from "./characters/detail";
import { charactersScreen } from "./characters/list";
import { field, h, type Screen } from "./dom";
import { liveScreen } from "./live";
import { outputsScreen } from "./outputs";
import { runScreen } from "./run";

const outputs = outputsScreen();
const live = liveScreen((jobId) => { void outputs.show(jobId); });
const run = runScreen((jobId) => { location.hash = "#/live"; live.watch(jobId); });
const characterList = charactersScreen((characterId) => { location.hash = `#/characters/${characterId}`; });
const character = characterScreen();
const screens: Record<string, Screen> = { run, live, outputs, characters: characterList };

const main = h("main", { id: "main", hidden: true });
const links = Object.keys(screens).map((name) =>
  h("a", { href: `#/${name}`, "data-screen": name }, name[0].toUpperCase() + name.slice(1)));
const keyInput = h("input", { type: "password", name: "apiKey", autocomplete: "off", required: true });
const keyStatus = h("p", { className: "status", role: "status", "aria-live": "polite" });
const keyForm = h("form", {
  className: "key", hidden: true, "aria-label": "API key",
  onsubmit: (event: Event) => { event.preventDefault(); apiKey.set(keyInput.value); void start(); },
}, h("p", {}, "This server needs an API key. It is kept for this tab only (session storage)."),
  field("API key", keyInput), h("button", { type: "submit" }, "Use key"), keyStatus);

document.body.append(
  h("header", {}, h("h1", {}, "CharacterGen"), h("nav", { "aria-label": "Screens" }, ...links)),
  keyForm, main);

let current: Screen | undefined;

function route() {
  const name = location.hash.replace(/^#\//, "") || "run";
  const characterId = /^characters\/(c-[0-9a-f]+)$/.exec(name)?.[1];
  const screen: Screen = characterId ? character : screens[name] ?? run;
  if (current !== screen) current?.leave?.();
  current = screen;
  main.replaceChildren(screen.element);
  const section = characterId ? "characters" : name;
  for (const link of links) link.toggleAttribute("aria-current", link.dataset.screen === section);
  if (characterId) void character.open(characterId);
  else if (screen !== live) void screen.refresh?.().catch(() => undefined);
}

/** Probes the API; shows the key prompt (and no data) until a call is accepted. */
async function start() {
  try {
    await models.list({});
  } catch (error) {
    if (!isUnauthenticated(error)) throw error;
    keyStatus.textContent = apiKey.get() ? "That key was refused." : "";
    apiKey.set("");
    keyForm.hidden = false;
    main.hidden = true;
    keyInput.focus();
    return;
  }
  keyForm.hidden = true;
  main.hidden = false;
  route();
}

addEventListener("hashchange", route);
void start();
