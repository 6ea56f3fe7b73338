#!/usr/bin/env python3
"""Turns what bench/gpu/run.sh wrote into $OUT (ops-*.json, unet.jsonl, env.txt) into one Markdown summary on stdout.

Usage: summarize.py OUT_DIR MODE   (MODE gpu or cpu; the issue's goals are checked only for gpu)
"""
import glob
import json
import os
import sys

out, mode = sys.argv[1], sys.argv[2]
# Issue 17's goals on an H100/H200, in seconds per UNet step with CFG (batch 2).
GOALS = {("sdxl", 128): (0.026, 1.2), ("sd15", 64): (0.010, None)}


def gib(v):
    return f"{v / 2**30:.2f}" if v else "–"


def peak(r):
    return r.get("cuda_reserved_bytes") or r.get("peak_host_bytes")


lines = [f"# GPU run summary ({mode})", ""]
env = os.path.join(out, "env.txt")
if os.path.exists(env):
    lines += ["```", open(env).read().strip(), "```", ""]

ops = sorted(glob.glob(os.path.join(out, "ops-*.json")))
if ops:
    lines += ["## Ops against PyTorch on the same device", "",
              "| dtype | ops | failed | worst error / tolerance | worst op |", "|---|---|---|---|---|"]
    for path in ops:
        d = json.load(open(path))
        worst = max(d["ops"], key=lambda r: r["error"] / r["tolerance"])
        lines.append(f"| {d['summary']['dtype']} | {d['summary']['ops']} | {', '.join(d['summary']['failed']) or 'none'} "
                     f"| {worst['error'] / worst['tolerance']:.2f} | {worst['op']} |")
    lines.append("")

records = []
unet = os.path.join(out, "unet.jsonl")
if os.path.exists(unet):
    for line in open(unet):
        line = line.strip()
        if line.startswith("{"):
            records.append(json.loads(line))
steps = {}
for r in records:
    if r["what"] == "unet_step":
        steps.setdefault((r["config"], r["latent"], r["dtype"]), {})[r["side"]] = r
if steps:
    memory = "peak GPU reserved GiB" if mode == "gpu" else "peak host RSS GiB"
    lines += ["## UNet step with CFG (batch 2)", "",
              f"| config | latent | dtype | CharacterGen ms/step | PyTorch eager ms/step | speed-up (theirs/ours) | CharacterGen {memory} | PyTorch {memory} |",
              "|---|---|---|---|---|---|---|---|"]
    for (config, latent, dtype), sides in steps.items():
        ours, theirs = sides.get("charactergen"), sides.get("pytorch")
        o = ours["s_per_step"] if ours else None
        t = theirs["s_per_step"] if theirs else None
        nan = "" if (ours or {}).get("finite", 1) and (theirs or {}).get("finite", 1) else " (non-finite output)"
        lines.append(f"| {config} | {latent}×{latent} | {dtype} | {o * 1e3:.1f} |" if o else f"| {config} | {latent}×{latent} | {dtype} | – |")
        lines[-1] += (f" {t * 1e3:.1f} |" if t else " – |") + (f" {t / o:.2f}{nan} |" if o and t else f" –{nan} |")
        lines[-1] += f" {gib(peak(ours) if ours else 0)} | {gib(peak(theirs) if theirs else 0)} |"
    lines.append("")
    if mode == "gpu":
        lines += ["## Goals (issue 17)", ""]
        for (config, latent), (limit, speedup) in GOALS.items():
            for dtype in ("float16", "bfloat16"):
                sides = steps.get((config, latent, dtype), {})
                if "charactergen" not in sides:
                    continue
                o = sides["charactergen"]["s_per_step"]
                verdict = f"{o * 1e3:.1f} ms ≤ {limit * 1e3:.0f} ms: {'met' if o <= limit else 'not met'}"
                if speedup and "pytorch" in sides:
                    ratio = sides["pytorch"]["s_per_step"] / o
                    verdict += f"; {ratio:.2f}× PyTorch ≥ {speedup}×: {'met' if ratio >= speedup else 'not met'}"
                lines.append(f"- {config} {latent * 8}² {dtype}: {verdict}")
        lines.append("")

for r in records:
    if r["what"] == "generate":
        lines += ["## Sampling run (CharacterGen)", "",
                  f"{r['config']} at {r['latent'] * 8}×{r['latent'] * 8}, {r['dtype']}, {int(r['steps'])} Euler steps with CFG "
                  f"then VAE decode: sampling {r['s_sampling']:.2f} s, decode {r['s_vae_decode']:.2f} s, total "
                  f"{r['s_total']:.2f} s, peak {gib(peak(r))} GiB{'' if r.get('finite', 1) else ' (non-finite image)'}.", ""]
inits = [f"{r['side']} {r['config']} {r['s']:.1f} s" for r in records if r["what"] == "init"]
if inits:
    lines += ["Weight initialisation (not timed above): " + ", ".join(inits) + ".", ""]
print("\n".join(lines))
