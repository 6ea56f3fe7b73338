#!/usr/bin/env python3
"""Writes the recipes of a tiny CLIP vision tower and two tiny IP-Adapters for the tiny SD1.5 UNet of
make_model_fixtures.py (clip_vision_tiny / ipadapter_base_tiny / ipadapter_plus_tiny .weights.json; the C# tests rebuild
the identical files from seed and names) and ipadapter_tiny_io.safetensors (inputs and reference outputs).

Run with Debian's python3-torch (the libtorch the C# shim uses):  /usr/bin/python3 make_ipadapter_fixtures.py [out_dir]

An independent plain-PyTorch reference written from the published architectures and formulas (HF CLIPVisionModel-
WithProjection; IP-Adapter's ImageProjModel and Resampler; ComfyUI clip_preprocess; cubiq ComfyUI_IPAdapter_plus's
decoupled attention, weight types and embeds scaling), reading every weight by key name. Tiny conventions shared with
the C# loaders: CLIP vision heads = width/16 below width 1024; Resampler heads = inner/64, or inner/16 below 64.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import (UNET, attention, linear, ln, lin, norm, random_weights, unet_forward, unet_spec,  # noqa: E402
                                 write_safetensors, write_weight_recipe)

VISION = dict(hidden=32, layers=3, intermediate=64, patch=14, image=28, projection=16)
CTX = UNET["context_dim"]
# The tiny UNet's cross-attention layers in cubiq's registration order (input blocks, output blocks, middle block) with
# their channels and ComfyUI transformer_index (SpatialTransformers counted in forward order: input 1, middle, output 2, 3).
SITES = [("input_blocks.1.1.", 32, 0), ("output_blocks.2.1.", 32, 2), ("output_blocks.3.1.", 32, 3), ("middle_block.1.", 64, 1)]
LAYERS = 4  # SpatialTransformers in the tiny UNet
PLUS = dict(tokens=4, dim=32, inner=32, ff=128, depth=2)


def vision_spec(c):
    d, p = c["hidden"], "vision_model."
    s = [(p + "embeddings.class_embedding", (d,)), (p + "embeddings.patch_embedding.weight", (d, 3, c["patch"], c["patch"])),
         (p + "embeddings.position_embedding.weight", ((c["image"] // c["patch"]) ** 2 + 1, d))]
    s += norm(p + "pre_layrnorm", d)
    for i in range(c["layers"]):
        q = f"{p}encoder.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s += linear(q + "self_attn." + n, d, d)
        s += norm(q + "layer_norm1", d) + linear(q + "mlp.fc1", d, c["intermediate"])
        s += linear(q + "mlp.fc2", c["intermediate"], d) + norm(q + "layer_norm2", d)
    return s + norm(p + "post_layernorm", d) + [("visual_projection.weight", (c["projection"], d))]


def ip_layers_spec():
    s = []
    for n, (_, ch, _) in enumerate(SITES):
        s += [(f"ip_adapter.{2 * n + 1}.to_k_ip.weight", (ch, CTX)), (f"ip_adapter.{2 * n + 1}.to_v_ip.weight", (ch, CTX))]
    return s


def base_spec():
    return linear("image_proj.proj", VISION["projection"], 4 * CTX) + norm("image_proj.norm", CTX) + ip_layers_spec()


def plus_spec():
    c, p = PLUS, "image_proj."
    s = [(p + "latents", (1, c["tokens"], c["dim"]))] + linear(p + "proj_in", VISION["hidden"], c["dim"])
    s += linear(p + "proj_out", c["dim"], CTX) + norm(p + "norm_out", CTX)
    for i in range(c["depth"]):
        q = f"{p}layers.{i}."
        s += norm(q + "0.norm1", c["dim"]) + norm(q + "0.norm2", c["dim"])
        s += linear(q + "0.to_q", c["dim"], c["inner"], False) + linear(q + "0.to_kv", c["dim"], 2 * c["inner"], False)
        s += linear(q + "0.to_out", c["inner"], c["dim"], False)
        s += norm(q + "1.0", c["dim"]) + linear(q + "1.1", c["dim"], c["ff"], False) + linear(q + "1.3", c["ff"], c["dim"], False)
    return s + ip_layers_spec()


def preprocess(image, size, crop=True):
    """ComfyUI clip_preprocess: [B, H, W, C] in 0..1 → normalised [B, 3, size, size]."""
    x = image[..., :3].permute(0, 3, 1, 2)
    h, w = x.shape[2], x.shape[3]
    if (h, w) != (size, size):
        if crop:
            scale = size / min(h, w)
            target = (round(scale * h), round(scale * w))
        else:
            target = (size, size)
        x = F.interpolate(x, size=target, mode="bicubic", antialias=True)
        top, left = (x.shape[2] - size) // 2, (x.shape[3] - size) // 2
        x = x[:, :, top:top + size, left:left + size]
    x = torch.clip(255.0 * x, 0, 255).round() / 255.0
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    return (x - mean) / std


def vision_forward(sd, c, pixels):
    """(last_hidden_state, penultimate_hidden_states (after layer L-2, no post-LN), image_embeds)."""
    p = "vision_model."
    d = c["hidden"]
    patches = F.conv2d(pixels, sd[p + "embeddings.patch_embedding.weight"], stride=c["patch"]).flatten(2).transpose(1, 2)
    cls = sd[p + "embeddings.class_embedding"].view(1, 1, d).expand(pixels.shape[0], 1, d)
    x = torch.cat([cls, patches], 1) + sd[p + "embeddings.position_embedding.weight"]
    x = ln(sd, p + "pre_layrnorm", x)
    heads = d // 16
    penultimate = None
    for i in range(c["layers"]):
        q = f"{p}encoder.layers.{i}."
        h = ln(sd, q + "layer_norm1", x)
        a = attention(lin(sd, q + "self_attn.q_proj", h), lin(sd, q + "self_attn.k_proj", h), lin(sd, q + "self_attn.v_proj", h), heads)
        x = x + lin(sd, q + "self_attn.out_proj", a)
        x = x + lin(sd, q + "mlp.fc2", F.gelu(lin(sd, q + "mlp.fc1", ln(sd, q + "layer_norm2", x))))
        if i == c["layers"] - 2:
            penultimate = x
    pooled = ln(sd, p + "post_layernorm", x[:, 0])
    return x, penultimate, F.linear(pooled, sd["visual_projection.weight"])


def image_proj(sd, e):
    t = F.linear(e, sd["image_proj.proj.weight"], sd["image_proj.proj.bias"]).reshape(-1, 4, CTX)
    return F.layer_norm(t, (CTX,), sd["image_proj.norm.weight"], sd["image_proj.norm.bias"], 1e-5)


def resampler(sd, hidden):
    c, p = PLUS, "image_proj."
    lat = sd[p + "latents"].repeat(hidden.shape[0], 1, 1)
    x = lin(sd, p + "proj_in", hidden)
    heads = c["inner"] // 64 if c["inner"] >= 64 and c["inner"] % 64 == 0 else c["inner"] // 16
    dh = c["inner"] // heads
    for i in range(c["depth"]):
        q = f"{p}layers.{i}."
        xn, ln_ = ln(sd, q + "0.norm1", x), ln(sd, q + "0.norm2", lat)
        qq = F.linear(ln_, sd[q + "0.to_q.weight"])
        k, v = F.linear(torch.cat([xn, ln_], 1), sd[q + "0.to_kv.weight"]).chunk(2, -1)
        split = lambda t: t.reshape(t.shape[0], t.shape[1], heads, dh).transpose(1, 2)
        s = dh ** -0.25
        w = ((split(qq) * s) @ (split(k) * s).transpose(-1, -2)).float().softmax(-1)
        o = (w @ split(v)).transpose(1, 2).reshape(lat.shape[0], lat.shape[1], -1)
        lat = lat + F.linear(o, sd[q + "0.to_out.weight"])
        f = F.gelu(F.linear(ln(sd, q + "1.0", lat), sd[q + "1.1.weight"]))
        lat = lat + F.linear(f, sd[q + "1.3.weight"])
    return ln(sd, p + "norm_out", lin(sd, p + "proj_out", lat))


def ip_patch(adapters, rows):
    """The decoupled attention of cubiq's ipadapter_attention for the tiny UNet: every adapter adds its term, the
    middle block is skipped (ComfyUI never calls its patch). rows: 0 = cond, 1 = uncond per batch row."""
    def patch(prefix, index, q, out, heads):
        name = prefix.split("diffusion_model.")[1]
        number, (_, _, t) = next((n, s) for n, s in enumerate(SITES) if s[0] == name)
        if name.startswith("middle"):
            return out
        total = out
        for a in adapters:
            w = a["weight"](t)
            if w == 0:
                continue
            sd, key = a["sd"], 2 * number + 1
            k = torch.cat([F.linear(a["uncond" if r == 1 else "cond"], sd[f"ip_adapter.{key}.to_k_ip.weight"]) for r in rows])
            v = torch.cat([F.linear(a["uncond" if r == 1 else "cond"], sd[f"ip_adapter.{key}.to_v_ip.weight"]) for r in rows])
            if a["scaling"] == "K+V w/ C penalty":
                wp = w * k.shape[2] / 1280.0
                o = attention(q, k * wp, v * wp, heads)
            else:  # V only
                o = attention(q, k, v, heads) * w
            total = total + o
        return total
    return patch


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    unet_seed = 20240611  # the tiny SD1.5 checkpoint of make_model_fixtures.py, rebuilt here from its recipe
    gen = torch.Generator().manual_seed(unet_seed)
    from make_model_fixtures import clip_spec, vae_spec, CLIP, VAE
    sd = {}
    for spec in (unet_spec(UNET), clip_spec(CLIP), vae_spec(VAE)):
        sd.update(random_weights(spec, gen))

    recipes = {"clip_vision_tiny": (20251201, vision_spec(VISION)), "ipadapter_base_tiny": (20251202, base_spec()),
               "ipadapter_plus_tiny": (20251203, plus_spec())}
    w = {}
    for name, (seed, spec) in recipes.items():
        w[name] = random_weights(spec, torch.Generator().manual_seed(seed))
        write_weight_recipe(os.path.join(out, name + ".weights.json"), seed, [spec], {"generator": "make_ipadapter_fixtures.py"})
    vis, base, plus = w["clip_vision_tiny"], w["ipadapter_base_tiny"], w["ipadapter_plus_tiny"]

    gen = torch.Generator().manual_seed(7)
    io = {}
    with torch.no_grad():
        # CLIP vision: two 40x34 pictures (resized so the short side is 28, centre-cropped), and a 28x28 one unchanged.
        io["vision.image"] = torch.rand(2, 40, 34, 3, generator=gen)
        io["vision.pixels"] = preprocess(io["vision.image"], VISION["image"])
        io["vision.pixels_nocrop"] = preprocess(io["vision.image"], VISION["image"], crop=False)
        io["vision.last"], io["vision.penultimate"], io["vision.embeds"] = vision_forward(vis, VISION, io["vision.pixels"])
        black = preprocess(torch.zeros(1, 28, 28, 3), VISION["image"])
        _, black_pen, _ = vision_forward(vis, VISION, black)

        # Projections: base over image_embeds (uncond: zeros), plus over penultimate states (uncond: a black image).
        e1 = io["vision.embeds"][:1]
        io["base.cond"], io["base.uncond"] = image_proj(base, e1), image_proj(base, torch.zeros_like(e1))
        h2 = io["vision.penultimate"][1:2]
        io["plus.cond"], io["plus.uncond"] = resampler(plus, h2), resampler(plus, black_pen)
        io["base.concat"] = image_proj(base, io["vision.embeds"]).reshape(1, -1, CTX)
        io["base.average"] = image_proj(base, io["vision.embeds"].mean(0, keepdim=True))

        # UNet at one step of CFG (row 0 cond, row 1 uncond), without adapters, with one, and with two stacked:
        # face (base) 0.7 linear V only + style (plus) 0.4 ease in with K+V w/ C penalty.
        io["unet.x"] = torch.randn(2, 4, 8, 8, generator=gen)
        io["unet.t"] = torch.tensor([500.0, 500.0])
        ctx = torch.randn(1, 77, CTX, generator=gen)
        io["unet.context"] = torch.cat([ctx, torch.randn(1, 77, CTX, generator=gen)])
        face = dict(sd=base, cond=io["base.cond"], uncond=io["base.uncond"], weight=lambda t: 0.7, scaling="V only")
        style = dict(sd=plus, cond=io["plus.cond"], uncond=io["plus.uncond"], scaling="K+V w/ C penalty",
                     weight=lambda t: 0.4 * (0.05 + 0.95 * (1 - t / LAYERS)))
        run = lambda adapters: unet_forward(sd, UNET, io["unet.x"], io["unet.t"], io["unet.context"], attn2_patch=ip_patch(adapters, [0, 1]))
        io["unet.plain"] = run([])
        io["unet.face"] = run([face])
        io["unet.face_style"] = run([face, style])

    write_safetensors(os.path.join(out, "ipadapter_tiny_io.safetensors"), io, {"torch": torch.__version__})
    for k, v in io.items():
        print(f"  {k}{list(v.shape)}: std {v.std():.4f} max {v.abs().max():.4f}")
    d1 = (io["unet.face"] - io["unet.plain"]).abs().max().item()
    d2 = (io["unet.face_style"] - io["unet.face"]).abs().max().item()
    print(f"face changes the output by up to {d1:.4f}; style adds up to {d2:.4f}")


if __name__ == "__main__":
    main()
