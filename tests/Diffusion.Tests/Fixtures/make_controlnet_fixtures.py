#!/usr/bin/env python3
"""Writes controlnet_sd15_tiny.weights.json and controlnet_sdxl_tiny.weights.json (recipes of tiny ControlNets in
lllyasviel's LDM layout, "control_model." prefix, rebuilt identically by the C# tests) and controlnet_tiny_io.safetensors
(inputs, residuals and UNet outputs with residuals).

Run with Debian's python3-torch:  /usr/bin/python3 make_controlnet_fixtures.py [out_dir]

The independent plain-PyTorch reference for src/Diffusion/Models/ControlNet, written from lllyasviel's cldm.py as
ComfyUI runs it (comfy/cldm/cldm.py, comfy/controlnet.py): the encoder copy (time_embed, label_emb, input_blocks,
middle_block) is run by make_model_fixtures.unet_forward over the "control_model." names; the hint encoder is eight
3x3 convolutions (16,16,32,32,96,96,256,model_channels; stride 2 at the 3rd, 5th, 7th) with SiLU between, its output
added once after input block 0; each input block's output goes through its 1x1 zero conv, the middle block's through
middle_block_out. The base UNets are those of sd15_tiny / sdxl_tiny (same seeds, drawn first), so the C# tests load
those fixture checkpoints; the UNet output with residuals x strength uses unet_forward(control=...). Weights are
stored as float16; all maths runs in float32.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

import make_model_fixtures as sd15
import make_sdxl_fixtures as sdxl
from make_model_fixtures import cnv, conv, random_weights, unet_forward, unet_spec, write_safetensors, write_weight_recipe

PREFIX = "control_model."
HINT_WIDTHS = [16, 16, 32, 32, 96, 96, 256]


def controlnet_spec(c, hint_channels=3, p=PREFIX):
    """The UNet's encoder names (no output_blocks / out), then the hint encoder, zero convs and middle_block_out."""
    spec = [(n, s) for n, s in unet_spec(c, p) if not n.startswith(p + "output_blocks.") and not n.startswith(p + "out.")]
    cin = hint_channels
    for k, width in enumerate(HINT_WIDTHS + [c["model_channels"]]):
        spec += conv(f"{p}input_hint_block.{2 * k}", cin, width, 3)
        cin = width
    blocks = sorted({int(n[len(p + "input_blocks."):].split(".")[0]) for n, _ in spec if n.startswith(p + "input_blocks.")})
    shapes = dict(spec)
    for i in blocks:
        # the channels leaving input block i: the last weight of the block with an output-channel dimension
        ch = [s[0] for n, s in spec if n.startswith(f"{p}input_blocks.{i}.") and len(s) == 4][-1]
        spec += conv(f"{p}zero_convs.{i}.0", ch, ch, 1)
    mid = shapes[p + "middle_block.2.out_layers.3.weight"][0]
    return spec + conv(p + "middle_block_out.0", mid, mid, 1)


def controlnet_forward(cn, c, x, hint, t, ctx, y=None, p=PREFIX):
    """{"output": [zero conv of each input block], "middle": middle_block_out}."""
    guided = hint
    for k in range(len(HINT_WIDTHS) + 1):
        w = cn[f"{p}input_hint_block.{2 * k}.weight"]
        guided = F.conv2d(guided, w, cn[f"{p}input_hint_block.{2 * k}.bias"], 2 if k in (2, 4, 6) else 1, 1)
        if k < len(HINT_WIDTHS):
            guided = F.silu(guided)
    outs = []

    def block(run, q, h, skip_shape):
        h = run(q, h, skip_shape)
        if q == p + "input_blocks.0.":
            h = h + guided
        if q.startswith(p + "input_blocks."):
            outs.append(cnv(cn, f"{p}zero_convs.{len(outs)}.0", h))
        return h

    h = unet_forward(cn, c, x, t, ctx, p, y=y, block=block, encoder_only=True)
    return {"output": outs, "middle": cnv(cn, p + "middle_block_out.0", h)}


def scaled(control, strength):
    return {"output": [r * strength for r in control["output"]], "middle": control["middle"] * strength}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    io = {}
    cases = (("sd15", sd15.UNET, 20240611, 20261201, None), ("sdxl", sdxl.UNET, 20261121, 20261202, sdxl.ADM))
    for name, c, base_seed, seed, adm in cases:
        base = random_weights(unet_spec(c), torch.Generator().manual_seed(base_seed))  # the fixture UNet (drawn first)
        gen = torch.Generator().manual_seed(seed)
        spec = controlnet_spec(c)
        cn = random_weights(spec, gen)
        b, h, w = 2, 8, 6
        x = torch.randn(b, 4, h, w, generator=gen)
        hint = torch.rand(1, 3, 8 * h, 8 * w, generator=gen)  # an IMAGE in 0..1, one for the whole batch
        t = torch.tensor([981.0, 37.0])
        ctx = torch.randn(b, 77, c["context_dim"], generator=gen)
        y = torch.randn(b, adm, generator=gen) if adm else None
        with torch.no_grad():
            control = controlnet_forward(cn, c, x, hint, t, ctx, y)
            io.update({f"{name}.x": x, f"{name}.hint": hint, f"{name}.t": t, f"{name}.context": ctx})
            if y is not None:
                io[f"{name}.y"] = y
            for i, r in enumerate(control["output"]):
                io[f"{name}.residual.{i}"] = r
            io[f"{name}.residual.middle"] = control["middle"]
            io[f"{name}.unet"] = unet_forward(base, c, x, t, ctx, y=y)
            io[f"{name}.unet_controlled"] = unet_forward(base, c, x, t, ctx, y=y, control=scaled(control, 0.8))
        meta = {"generator": "make_controlnet_fixtures.py"}
        write_weight_recipe(os.path.join(out, f"controlnet_{name}_tiny.weights.json"), seed, (spec,), meta)
        count = sum(v.numel() for v in cn.values())
        print(f"{name}: {len(cn)} weights, {count} parameters, {len(control['output'])} residuals")
    write_safetensors(os.path.join(out, "controlnet_tiny_io.safetensors"), io, {"torch": torch.__version__, "strength": "0.8"})
    for k, v in io.items():
        print(f"  {k}{list(v.shape)}: std {v.std():.3f} max {v.abs().max():.3f}")


if __name__ == "__main__":
    main()
