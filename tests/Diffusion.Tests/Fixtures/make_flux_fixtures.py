#!/usr/bin/env python3
"""Writes flux_tiny.weights.json (the recipe of a tiny FLUX.1-dev-layout transformer in BFL's bare key names; the C#
tests rebuild the identical file) and flux_tiny_io.safetensors (inputs and outputs).

Run with Debian's python3-torch:  /usr/bin/python3 make_flux_fixtures.py [out_dir]

An independent plain-PyTorch reference for src/Diffusion/Models/Flux, written from the published architecture (BFL
flux/model.py and modules/layers.py as described in ../shared/reference/next-wave.md §C3), not from our C# code: it
reads the state dict by key name. RoPE is applied the way BFL does it, as a 2×2 rotation matrix per element pair built
in float64; the 2×2 patch packing uses index arithmetic rather than reshapes. Real head width 128 (so the real RoPE
axes 16/56/56), tiny hidden width and depth. Weights are stored float16; all maths runs in float32.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

from make_model_fixtures import linear, random_weights, vae_decode, vae_encode_mean, vae_spec, write_safetensors, write_weight_recipe

FLUX = dict(in_channels=16, hidden=256, heads=2, depth=2, depth_single=2, mlp=512, context=32, vec=24,
            axes=[16, 56, 56], theta=10000)

# FLUX's ae.safetensors layout at tiny widths: LDM KL autoencoder names, 16 latent channels, no quant convs, no prefix
VAE = dict(in_channels=3, out_ch=3, ch=32, ch_mult=[1, 1, 2], num_res_blocks=1, z_channels=16, embed_dim=16)


def flux_vae_spec(c):
    return [(n, s) for n, s in vae_spec(c, p="") if "quant_conv" not in n]


def without_quant_convs(sd, c):
    """BFL's autoencoder has no quant convs; the LDM reference runs with identity 1×1 convolutions in their place."""
    eye = lambda n: torch.eye(n).reshape(n, n, 1, 1)
    z = c["z_channels"]
    return dict(sd, **{"quant_conv.weight": eye(2 * z), "quant_conv.bias": torch.zeros(2 * z),
                       "post_quant_conv.weight": eye(z), "post_quant_conv.bias": torch.zeros(z)})


def qknorm(p, d):
    return [(p + ".query_norm.scale", (d,)), (p + ".key_norm.scale", (d,))]


def flux_spec(c, p=""):
    h, m, hd = c["hidden"], c["mlp"], c["hidden"] // c["heads"]
    s = linear(p + "img_in", 4 * c["in_channels"], h)
    s += linear(p + "time_in.in_layer", 256, h) + linear(p + "time_in.out_layer", h, h)
    s += linear(p + "vector_in.in_layer", c["vec"], h) + linear(p + "vector_in.out_layer", h, h)
    s += linear(p + "guidance_in.in_layer", 256, h) + linear(p + "guidance_in.out_layer", h, h)
    s += linear(p + "txt_in", c["context"], h)
    for i in range(c["depth"]):
        q = f"{p}double_blocks.{i}."
        for stream in ("img", "txt"):
            s += linear(q + stream + "_mod.lin", h, 6 * h)
            s += linear(q + stream + "_attn.qkv", h, 3 * h) + qknorm(q + stream + "_attn.norm", hd)
            s += linear(q + stream + "_attn.proj", h, h)
            s += linear(q + stream + "_mlp.0", h, m) + linear(q + stream + "_mlp.2", m, h)
    for i in range(c["depth_single"]):
        q = f"{p}single_blocks.{i}."
        s += linear(q + "linear1", h, 3 * h + m) + linear(q + "linear2", h + m, h)
        s += qknorm(q + "norm", hd) + linear(q + "modulation.lin", h, 3 * h)
    s += linear(p + "final_layer.linear", h, 4 * c["in_channels"])
    s += linear(p + "final_layer.adaLN_modulation.1", h, 2 * h)
    return s


def lin(sd, p, x):
    return F.linear(x, sd[p + ".weight"], sd.get(p + ".bias"))


def sinusoid(t, dim=256, max_period=10000, factor=1000.0):
    t = factor * t
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def rope_matrices(ids, axes, theta):
    """ids [L, n_axes] → [L, D/2, 2, 2] rotation matrices, built in float64 and returned float32."""
    mats = []
    for a, d in enumerate(axes):
        omega = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
        ang = ids[:, a].double()[:, None] * omega[None]
        mats.append(torch.stack([torch.cos(ang), -torch.sin(ang), torch.sin(ang), torch.cos(ang)], -1).view(*ang.shape, 2, 2))
    return torch.cat(mats, 1).float()


def rope_apply(x, rot):
    """x [B, H, L, D]: each pair (x[2k], x[2k+1]) is multiplied by its 2×2 matrix."""
    pairs = x.float().reshape(*x.shape[:-1], -1, 2)
    out = torch.einsum("lkij,bhlkj->bhlki", rot, pairs)
    return out.reshape(x.shape)


def rms(x, scale):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * scale


def heads_of(sd, qkv, norm_prefix, n_heads):
    b, l, _ = qkv.shape
    q, k, v = qkv.view(b, l, 3, n_heads, -1).permute(2, 0, 3, 1, 4)
    return rms(q, sd[norm_prefix + ".query_norm.scale"]), rms(k, sd[norm_prefix + ".key_norm.scale"]), v


def joint_attention(q, k, v, rot):
    q, k = rope_apply(q, rot), rope_apply(k, rot)
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1)
    o = w @ v
    return o.permute(0, 2, 1, 3).reshape(o.shape[0], o.shape[2], -1)


def mod(sd, p, vec, n):
    return lin(sd, p, F.silu(vec))[:, None, :].chunk(3 * n, -1)


def modulate(x, shift, scale):
    return (1 + scale) * F.layer_norm(x, (x.shape[-1],), eps=1e-6) + shift


def patchify(x):
    b, c, h, w = x.shape
    out = torch.empty(b, (h // 2) * (w // 2), c * 4)
    for r in range(h // 2):
        for col in range(w // 2):
            for ch in range(c):
                for ph in range(2):
                    for pw in range(2):
                        out[:, r * (w // 2) + col, ch * 4 + ph * 2 + pw] = x[:, ch, 2 * r + ph, 2 * col + pw]
    return out


def unpatchify(tokens, rows, cols):
    b, _, cc = tokens.shape
    c = cc // 4
    out = torch.empty(b, c, rows * 2, cols * 2)
    for r in range(rows):
        for col in range(cols):
            for ch in range(c):
                for ph in range(2):
                    for pw in range(2):
                        out[:, ch, 2 * r + ph, 2 * col + pw] = tokens[:, r * cols + col, ch * 4 + ph * 2 + pw]
    return out


def flux_forward(sd, c, x, t, context, y, guidance, p=""):
    nh = c["heads"]
    h, w = x.shape[2:]
    x = F.pad(x, (0, w % 2, 0, h % 2), mode="circular")
    rows, cols = x.shape[2] // 2, x.shape[3] // 2
    img = lin(sd, p + "img_in", patchify(x))
    emb = lambda q, v: lin(sd, q + ".out_layer", F.silu(lin(sd, q + ".in_layer", v)))
    vec = emb(p + "time_in", sinusoid(t))
    if guidance is not None:
        vec = vec + emb(p + "guidance_in", sinusoid(guidance))
    vec = vec + emb(p + "vector_in", y)
    txt = lin(sd, p + "txt_in", context)
    n_txt = txt.shape[1]
    ids = torch.zeros(n_txt + rows * cols, 3)
    for r in range(rows):
        for col in range(cols):
            ids[n_txt + r * cols + col] = torch.tensor([0.0, r, col])
    rot = rope_matrices(ids, c["axes"], c["theta"])
    for i in range(c["depth"]):
        q = f"{p}double_blocks.{i}."
        i1s, i1c, i1g, i2s, i2c, i2g = mod(sd, q + "img_mod.lin", vec, 2)
        t1s, t1c, t1g, t2s, t2c, t2g = mod(sd, q + "txt_mod.lin", vec, 2)
        iq, ik, iv = heads_of(sd, lin(sd, q + "img_attn.qkv", modulate(img, i1s, i1c)), q + "img_attn.norm", nh)
        tq, tk, tv = heads_of(sd, lin(sd, q + "txt_attn.qkv", modulate(txt, t1s, t1c)), q + "txt_attn.norm", nh)
        a = joint_attention(torch.cat([tq, iq], 2), torch.cat([tk, ik], 2), torch.cat([tv, iv], 2), rot)
        ta, ia = a[:, :n_txt], a[:, n_txt:]
        mlp = lambda m, v: lin(sd, m + ".2", F.gelu(lin(sd, m + ".0", v), approximate="tanh"))
        img = img + i1g * lin(sd, q + "img_attn.proj", ia)
        img = img + i2g * mlp(q + "img_mlp", modulate(img, i2s, i2c))
        txt = txt + t1g * lin(sd, q + "txt_attn.proj", ta)
        txt = txt + t2g * mlp(q + "txt_mlp", modulate(txt, t2s, t2c))
    x = torch.cat([txt, img], 1)
    hid = c["hidden"]
    for i in range(c["depth_single"]):
        q = f"{p}single_blocks.{i}."
        s, sc, g = mod(sd, q + "modulation.lin", vec, 1)
        h1 = lin(sd, q + "linear1", modulate(x, s, sc))
        qq, kk, vv = heads_of(sd, h1[..., :3 * hid], q + "norm", nh)
        a = joint_attention(qq, kk, vv, rot)
        x = x + g * lin(sd, q + "linear2", torch.cat([a, F.gelu(h1[..., 3 * hid:], approximate="tanh")], 2))
    img = x[:, n_txt:]
    shift, scale = lin(sd, p + "final_layer.adaLN_modulation.1", F.silu(vec)).chunk(2, 1)
    img = lin(sd, p + "final_layer.linear", modulate(img, shift[:, None], scale[:, None]))
    return unpatchify(img, rows, cols)[:, :, :h, :w]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    seed = 20261203
    gen = torch.Generator().manual_seed(seed)
    spec = flux_spec(FLUX)
    sd = random_weights(spec, gen)
    io = {}
    with torch.no_grad():
        # a batch of 2 (different σ, guidance, text, pooled vector) on an 8×6 latent: 4×3 patches, 7 text tokens
        io["flux.x"] = torch.randn(2, 16, 8, 6, generator=gen)
        io["flux.t"] = torch.tensor([1.0, 0.3125])
        io["flux.guidance"] = torch.tensor([3.5, 1.0])
        io["flux.context"] = torch.randn(2, 7, FLUX["context"], generator=gen)
        io["flux.y"] = torch.randn(2, FLUX["vec"], generator=gen)
        io["flux.out"] = flux_forward(sd, FLUX, io["flux.x"], io["flux.t"], io["flux.context"], io["flux.y"], io["flux.guidance"])
        # an odd 5×7 latent (circular padding to 6×8, cropped back), no guidance value (the embedding is skipped)
        io["flux_odd.x"] = torch.randn(1, 16, 5, 7, generator=gen)
        io["flux_odd.t"] = torch.tensor([0.75])
        io["flux_odd.context"] = torch.randn(1, 4, FLUX["context"], generator=gen)
        io["flux_odd.y"] = torch.randn(1, FLUX["vec"], generator=gen)
        io["flux_odd.out"] = flux_forward(sd, FLUX, io["flux_odd.x"], io["flux_odd.t"], io["flux_odd.context"], io["flux_odd.y"], None)
    write_weight_recipe(os.path.join(out, "flux_tiny.weights.json"), seed, [spec], {"charactergen.family": "flux"})

    vae_seed = 20261204
    vspec = flux_vae_spec(VAE)
    vsd = without_quant_convs(random_weights(vspec, torch.Generator().manual_seed(vae_seed)), VAE)
    with torch.no_grad():
        io["vae.image"] = torch.rand(1, 3, 16, 24, generator=gen) * 2 - 1
        io["vae.mean"] = vae_encode_mean(vsd, VAE, io["vae.image"], p="")
        io["vae.z"] = torch.randn(1, 16, 4, 6, generator=gen)
        io["vae.decoded"] = vae_decode(vsd, VAE, io["vae.z"], p="")
    write_weight_recipe(os.path.join(out, "flux_vae_tiny.weights.json"), vae_seed, [vspec], {})
    write_safetensors(os.path.join(out, "flux_tiny_io.safetensors"), {k: v.contiguous() for k, v in io.items()}, None)
    for k in ("flux.out", "flux_odd.out"):
        print(k, tuple(io[k].shape), float(io[k].abs().max()))


if __name__ == "__main__":
    main()
