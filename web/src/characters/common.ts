// Shared by the character screens: state names, the service's refusals shown as they are, render settings from a
// form, and an image figure for an asset.
import { ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { field, h } from "../dom";
import { assetUrl } from "../images";
import { CharacterState, RenderSettingsSchema, type ImageRef, type RenderSettings } from "../gen/charactergen/v1/characters_pb";

export const stateNames: Record<number, string> = {
  [CharacterState.UNSPECIFIED]: "unknown",
  [CharacterState.INITIAL]: "initial",
  [CharacterState.BASE_APPROVED]: "base approved",
  [CharacterState.GENERATING_TRAINING]: "generating training set",
  [CharacterState.TRAINING]: "training",
  [CharacterState.READY]: "ready",
  [CharacterState.ERROR]: "error",
};

export const stateName = (state: CharacterState) => stateNames[state] ?? "unknown";

/** A status line for a section: progress text, or the service's refusal as an alert with its code. */
export function statusLine() {
  const element = h("p", { className: "status", role: "status", "aria-live": "polite" });
  return {
    element,
    say(text: string) { element.classList.remove("error"); element.setAttribute("role", "status"); element.textContent = text; },
    refused(error: unknown) {
      const e = ConnectError.from(error);
      element.classList.add("error");
      element.setAttribute("role", "alert");
      element.textContent = `Refused (${codeName(e.code)}): ${e.rawMessage}`;
    },
  };
}

// The gRPC names people see in the docs (FAILED_PRECONDITION …), lower-case, for Connect's numeric codes.
const codeNames = ["ok", "cancelled", "unknown", "invalid argument", "deadline exceeded", "not found", "already exists",
  "permission denied", "resource exhausted", "failed precondition", "aborted", "out of range", "unimplemented",
  "internal", "unavailable", "data loss", "unauthenticated"];
const codeName = (code: number) => codeNames[code] ?? `code ${code}`;

/** Runs an action for a button: disabled while it runs, its outcome in the status line. */
export async function act(button: HTMLButtonElement, status: ReturnType<typeof statusLine>, busy: string, action: () => Promise<string | void>) {
  button.disabled = true;
  status.say(busy);
  try {
    status.say((await action()) ?? "");
  } catch (error) {
    status.refused(error);
  } finally {
    button.disabled = false;
  }
}

/** A number box; blank means "the server's default". */
export function numberBox(name: string, props: Record<string, unknown> = {}) {
  return h("input", { type: "number", name, step: "any", ...props });
}

export function numberOf(input: HTMLInputElement): number {
  return input.value.trim() === "" ? 0 : Number(input.value);
}

/** The render fields (size, steps, cfg, seed) of a form: blank fields take the character's or server's defaults. */
export function renderFields(prefix: string) {
  const width = numberBox(`${prefix}.width`, { min: 8, step: 8, placeholder: "default" });
  const height = numberBox(`${prefix}.height`, { min: 8, step: 8, placeholder: "default" });
  const steps = numberBox(`${prefix}.steps`, { min: 1, step: 1, placeholder: "default" });
  const cfg = numberBox(`${prefix}.cfg`, { min: 0, placeholder: "default" });
  const seed = numberBox(`${prefix}.seed`, { min: 0, step: 1, placeholder: "random" });
  return {
    element: h("div", { className: "inputs" }, field("Width", width), field("Height", height), field("Steps", steps),
      field("CFG", cfg), field("Seed", seed)),
    value(): RenderSettings {
      return create(RenderSettingsSchema, {
        width: numberOf(width), height: numberOf(height), steps: numberOf(steps), cfg: numberOf(cfg),
        seed: seed.value.trim() === "" ? undefined : BigInt(seed.value.trim()),
      });
    },
  };
}

/** A figure showing a stored image, filled in once it is downloaded. */
export function imageFigure(image: ImageRef | undefined, alt: string, ...caption: (Node | string)[]): HTMLElement {
  const img = h("img", { alt, className: "asset", width: 160, height: 160 });
  if (image?.assetId) void assetUrl(image.assetId).then((url) => { img.src = url; img.dataset.assetId = image.assetId; }, () => { img.alt = `${alt} (could not load)`; });
  return h("figure", {}, img, h("figcaption", {}, ...caption));
}
