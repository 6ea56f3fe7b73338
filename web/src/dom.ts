// A tiny element builder: the page needs no framework.
/** One screen of the page: its element, what to load when it is shown (once a key is accepted), what to stop when left. */
export interface Screen { element: HTMLElement; refresh?: () => Promise<void>; leave?: () => void; }

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value as EventListener);
    else if (name in element && !name.includes("-")) (element as unknown as Record<string, unknown>)[name] = value;
    else element.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

let ids = 0;
/** A labelled control: <label for> bound to the control's id. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, ...extra: Child[]): HTMLElement {
  control.id ||= `f${++ids}`;
  return h("div", { className: "field" }, h("label", { htmlFor: control.id }, label), control, ...extra);
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
