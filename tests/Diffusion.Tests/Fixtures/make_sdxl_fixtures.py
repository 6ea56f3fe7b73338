#!/usr/bin/env python3
"""Writes sdxl_tiny.weights.json (the recipe of a tiny SDXL-layout checkpoint, rebuilt identically by the C# tests) and
sdxl_tiny_io.safetensors (inputs and outputs).

Run with Debian's python3-torch:  /usr/bin/python3 make_sdxl_fixtures.py [out_dir]

The independent plain-PyTorch reference for SDXL, reusing make_model_fixtures.py's UNet/CLIP/VAE readers (which read
the state dict by key name). New here: the UNet's label_emb (ADM input), and SDXL's clip_g read in its own OpenCLIP
layout (conditioner.embedders.1.model.: fused in_proj run through torch's multi_head_attention_forward as OpenCLIP's
nn.MultiheadAttention does, text_projection applied as x @ P) - not through the HF-name conversion our loader performs.
The ADM vector follows ComfyUI model_base.SDXL.encode_adm: pooled || Timestep(256) of [height, width, crop_h, crop_w,
target_height, target_width]. Weights are stored as float16; all maths runs in float32.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from make_model_fixtures import (write_weight_recipe, clip_forward, clip_spec, linear, ln, norm, random_weights, unet_forward, unet_spec,
                                 vae_spec, write_safetensors)

CLIP_L = dict(vocab_size=1000, max_position_embeddings=77, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
              intermediate_size=64, hidden_act="quick_gelu")
CLIP_G = dict(vocab_size=1000, max_position_embeddings=77, hidden_size=48, num_hidden_layers=3, num_attention_heads=3,
              intermediate_size=96, hidden_act="gelu", projection_dim=40)
ADM = CLIP_G["projection_dim"] + 6 * 256
UNET = dict(in_channels=4, out_channels=4, model_channels=64, channel_mult=[1, 1], num_res_blocks=1,
            transformer_depth=[0, 2], transformer_depth_middle=2, context_dim=32 + 48, num_heads=-1,
            num_head_channels=64, use_linear_in_transformer=True, adm_in_channels=ADM)
VAE = dict(in_channels=3, out_ch=3, ch=32, ch_mult=[1, 1, 1, 1], num_res_blocks=1, z_channels=4, embed_dim=4)
CONFIG = dict(family="sdxl", prediction="eps", unet=UNET, clip=CLIP_L, clip_g=CLIP_G, vae=VAE)

CLIP_L_PREFIX = "conditioner.embedders.0.transformer.text_model."
CLIP_G_PREFIX = "conditioner.embedders.1.model."


def openclip_spec(c, p=CLIP_G_PREFIX):
    d, m = c["hidden_size"], c["intermediate_size"]
    s = [(p + "token_embedding.weight", (c["vocab_size"], d)), (p + "positional_embedding", (c["max_position_embeddings"], d))]
    for i in range(c["num_hidden_layers"]):
        q = f"{p}transformer.resblocks.{i}."
        s += norm(q + "ln_1", d) + [(q + "attn.in_proj_weight", (3 * d, d)), (q + "attn.in_proj_bias", (3 * d,))]
        s += linear(q + "attn.out_proj", d, d) + norm(q + "ln_2", d) + linear(q + "mlp.c_fc", d, m) + linear(q + "mlp.c_proj", m, d)
    return s + norm(p + "ln_final", d) + [(p + "text_projection", (d, c["projection_dim"]))]


def openclip_forward(sd, c, ids, layer, p=CLIP_G_PREFIX):
    """OpenCLIP TextTransformer: returns (hidden state after layer `layer` without ln_final, projected pooled)."""
    n, d = ids.shape[1], c["hidden_size"]
    x = sd[p + "token_embedding.weight"][ids] + sd[p + "positional_embedding"][:n]
    mask = torch.full((n, n), float("-inf")).triu(1)
    x = x.permute(1, 0, 2)  # OpenCLIP's seq-first layout
    keep = c["num_hidden_layers"] + layer if layer < 0 else layer
    chosen = None
    for i in range(c["num_hidden_layers"]):
        q = f"{p}transformer.resblocks.{i}."
        h = ln(sd, q + "ln_1", x)
        a, _ = F.multi_head_attention_forward(
            h, h, h, d, c["num_attention_heads"], sd[q + "attn.in_proj_weight"], sd[q + "attn.in_proj_bias"], None, None,
            False, 0.0, sd[q + "attn.out_proj.weight"], sd[q + "attn.out_proj.bias"], training=False, need_weights=False,
            attn_mask=mask)
        x = x + a
        h = ln(sd, q + "ln_2", x)
        x = x + F.linear(F.gelu(F.linear(h, sd[q + "mlp.c_fc.weight"], sd[q + "mlp.c_fc.bias"])),
                         sd[q + "mlp.c_proj.weight"], sd[q + "mlp.c_proj.bias"])
        if i == keep:
            chosen = x.permute(1, 0, 2)
    last = ln(sd, p + "ln_final", x.permute(1, 0, 2))
    pooled = last[torch.arange(ids.shape[0]), ids.argmax(-1)] @ sd[p + "text_projection"]
    return chosen, pooled


def size_embedding(values, dim=256):
    """ComfyUI Timestep(256) per value (timestep_embedding in float32: [cos, sin], f_k = exp(-ln(10000) k / 128))."""
    half = dim // 2
    out = []
    for v in values:
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = torch.tensor([float(v)])[:, None] * freqs[None]
        out.append(torch.cat([torch.cos(args), torch.sin(args)], -1)[0])
    return torch.cat(out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    seed = 20261121
    gen = torch.Generator().manual_seed(seed)
    specs = (unet_spec(UNET), clip_spec(CLIP_L, CLIP_L_PREFIX), openclip_spec(CLIP_G), vae_spec(VAE))
    sd = {}
    for spec in specs:
        sd.update(random_weights(spec, gen))

    io = {}
    # Two prompts; start 998, end (the largest id) 999; clip_l pads with the end token, clip_g with 0 (ComfyUI sdxl_clip).
    ids_l = torch.full((2, 77), 999, dtype=torch.int64)
    ids_g = torch.zeros((2, 77), dtype=torch.int64)
    for row, length in enumerate((5, 12)):
        words = torch.randint(1, 998, (length,), generator=gen)
        for ids in (ids_l, ids_g):
            ids[row, 0] = 998
            ids[row, 1:1 + length] = words
            ids[row, 1 + length] = 999
    io["clip_l.ids"], io["clip_g.ids"] = ids_l, ids_g
    with torch.no_grad():
        _, hidden_l, _ = clip_forward(sd, CLIP_L, ids_l, -2, CLIP_L_PREFIX)
        hidden_g, pooled_g = openclip_forward(sd, CLIP_G, ids_g, -2)
        last_g, _ = openclip_forward(sd, CLIP_G, ids_g, -1)
        io["clip_l.penultimate_raw"] = hidden_l
        io["clip_g.penultimate_raw"] = hidden_g
        io["clip_g.last_raw"] = last_g
        io["clip_g.pooled"] = pooled_g
        io["sdxl.cond"] = torch.cat([hidden_l, hidden_g], -1)  # 2048-d in the real model: clip_l || clip_g

        # ADM: height, width, crop_h, crop_w, target_height, target_width.
        io["adm.sizes"] = torch.tensor([1024.0, 832.0, 16.0, 0.0, 1024.0, 768.0])
        io["adm.y"] = torch.cat([pooled_g, size_embedding(io["adm.sizes"].tolist()).expand(2, -1)], 1)

        io["unet.x"] = torch.randn(2, 4, 8, 6, generator=gen)
        io["unet.t"] = torch.tensor([981.0, 37.5])
        io["unet.context"] = torch.randn(2, 77, UNET["context_dim"], generator=gen)
        io["unet.y"] = io["adm.y"]
        io["unet.out"] = unet_forward(sd, UNET, io["unet.x"], io["unet.t"], io["unet.context"], y=io["unet.y"])

    meta = {"charactergen.config": json.dumps(CONFIG, separators=(",", ":")), "generator": "make_sdxl_fixtures.py"}
    write_weight_recipe(os.path.join(out, "sdxl_tiny.weights.json"), seed, specs, meta)
    write_safetensors(os.path.join(out, "sdxl_tiny_io.safetensors"), io, {"torch": torch.__version__})
    count = sum(v.numel() for v in sd.values())
    print(f"{len(sd)} weights, {count} parameters; io: " + ", ".join(f"{k}{list(v.shape)}" for k, v in io.items()))
    for k, v in io.items():
        if v.is_floating_point():
            print(f"  {k}: std {v.std():.3f} max {v.abs().max():.3f}")


if __name__ == "__main__":
    main()
