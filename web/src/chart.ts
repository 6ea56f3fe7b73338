// A live loss chart for training jobs: loss and smoothed loss per step, drawn on a canvas (no chart library).
import { h } from "./dom";

export class LossChart {
  readonly element = h("canvas", { width: 600, height: 180, className: "chart", role: "img", "aria-label": "Training loss per step" });
  private readonly points: { step: number; loss: number; smoothed: number }[] = [];

  add(step: number, loss: number, smoothed: number) {
    this.points.push({ step, loss, smoothed });
    this.element.dataset.points = String(this.points.length);
    this.element.setAttribute("aria-label", `Training loss per step: step ${step}, loss ${loss.toFixed(4)}, smoothed ${smoothed.toFixed(4)}`);
    this.draw();
  }

  private draw() {
    const canvas = this.element, context = canvas.getContext("2d");
    if (!context || this.points.length === 0) return;
    const values = this.points.flatMap((p) => [p.loss, p.smoothed]);
    const low = Math.min(...values), high = Math.max(...values), span = high - low || 1;
    const last = this.points[this.points.length - 1].step, first = this.points[0].step;
    const x = (step: number) => 30 + ((step - first) / Math.max(1, last - first)) * (canvas.width - 40);
    const y = (value: number) => canvas.height - 20 - ((value - low) / span) * (canvas.height - 30);
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "#888";
    context.font = "11px sans-serif";
    context.fillText(high.toFixed(3), 2, 12);
    context.fillText(low.toFixed(3), 2, canvas.height - 22);
    for (const [key, colour] of [["loss", "#9ab"], ["smoothed", "#e63"]] as const) {
      context.strokeStyle = colour;
      context.beginPath();
      this.points.forEach((p, i) => (i ? context.lineTo(x(p.step), y(p[key])) : context.moveTo(x(p.step), y(p[key]))));
      context.stroke();
    }
  }
}
