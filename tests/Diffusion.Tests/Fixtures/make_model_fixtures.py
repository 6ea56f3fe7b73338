#!/usr/bin/env python3
"""Writes sd15_tiny.weights.json (the recipe of a tiny SD1.5-layout checkpoint: seed, names, shapes, metadata; the C#
tests rebuild the identical file) and sd15_tiny_io.safetensors (inputs and outputs).

Run with Debian's python3-torch (the libtorch the C# shim uses):  /usr/bin/python3 make_model_fixtures.py [out_dir]

An independent plain-PyTorch reference for the C# networks in src/Diffusion/Models. It is written from the published
architectures (OpenAI CLIP text transformer as in HF CLIPTextModel; LDM openaimodel.py UNet with attention.py
SpatialTransformer; LDM model.py KL autoencoder), not from our C# code: every forward here reads the state dict by key
name. The checkpoint uses the real single-file key layout (model.diffusion_model., cond_stage_model.transformer.
text_model., first_stage_model.) with tiny widths, carries its configuration in __metadata__["charactergen.config"],
and stores float16 weights (as released checkpoints do) to keep the file small; all maths runs in float32.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

UNET = dict(in_channels=4, out_channels=4, model_channels=32, channel_mult=[1, 2], num_res_blocks=1,
            transformer_depth=[1, 0], transformer_depth_middle=1, context_dim=32, num_heads=8, num_head_channels=-1,
            use_linear_in_transformer=False)
CLIP = dict(vocab_size=1000, max_position_embeddings=77, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
            intermediate_size=64, hidden_act="quick_gelu")
VAE = dict(in_channels=3, out_ch=3, ch=32, ch_mult=[1, 1, 1, 1], num_res_blocks=1, z_channels=4, embed_dim=4)
CONFIG = dict(family="sd1", prediction="eps", unet=UNET, clip=CLIP, vae=VAE)

# ---------------------------------------------------------------------------------------------------------------------
# Parameter names and shapes of each network (the real key layout).


def conv(p, cin, cout, k):
    return [(p + ".weight", (cout, cin, k, k)), (p + ".bias", (cout,))]


def linear(p, cin, cout, bias=True):
    return [(p + ".weight", (cout, cin))] + ([(p + ".bias", (cout,))] if bias else [])


def norm(p, c):
    return [(p + ".weight", (c,)), (p + ".bias", (c,))]


def unet_spec(c, p="model.diffusion_model."):
    mc, emb = c["model_channels"], c["model_channels"] * 4
    s = linear(p + "time_embed.0", mc, emb) + linear(p + "time_embed.2", emb, emb)
    if c.get("adm_in_channels"):  # SDXL: openaimodel.py num_classes="sequential"
        s += linear(p + "label_emb.0.0", c["adm_in_channels"], emb) + linear(p + "label_emb.0.2", emb, emb)

    def res(q, cin, cout):
        r = norm(q + "in_layers.0", cin) + conv(q + "in_layers.2", cin, cout, 3) + linear(q + "emb_layers.1", emb, cout)
        r += norm(q + "out_layers.0", cout) + conv(q + "out_layers.3", cout, cout, 3)
        return r + (conv(q + "skip_connection", cin, cout, 1) if cin != cout else [])

    def st(q, ch, depth):
        proj = (lambda n: linear(n, ch, ch)) if c["use_linear_in_transformer"] else (lambda n: conv(n, ch, ch, 1))
        r = norm(q + "norm", ch) + proj(q + "proj_in")
        for d in range(depth):
            b = f"{q}transformer_blocks.{d}."
            for a, kv in (("attn1", ch), ("attn2", c["context_dim"])):
                r += linear(b + a + ".to_q", ch, ch, False) + linear(b + a + ".to_k", kv, ch, False)
                r += linear(b + a + ".to_v", kv, ch, False) + linear(b + a + ".to_out.0", ch, ch)
            r += linear(b + "ff.net.0.proj", ch, ch * 8) + linear(b + "ff.net.2", ch * 4, ch)
            r += norm(b + "norm1", ch) + norm(b + "norm2", ch) + norm(b + "norm3", ch)
        return r + proj(q + "proj_out")

    s += conv(p + "input_blocks.0.0", c["in_channels"], mc, 3)
    chans, ch, i = [mc], mc, 1
    for level, mult in enumerate(c["channel_mult"]):
        for _ in range(c["num_res_blocks"]):
            s += res(f"{p}input_blocks.{i}.0.", ch, mult * mc)
            ch = mult * mc
            if c["transformer_depth"][level]:
                s += st(f"{p}input_blocks.{i}.1.", ch, c["transformer_depth"][level])
            chans.append(ch)
            i += 1
        if level != len(c["channel_mult"]) - 1:
            s += conv(f"{p}input_blocks.{i}.0.op", ch, ch, 3)
            chans.append(ch)
            i += 1
    s += res(p + "middle_block.0.", ch, ch) + st(p + "middle_block.1.", ch, c["transformer_depth_middle"])
    s += res(p + "middle_block.2.", ch, ch)
    i = 0
    for level, mult in reversed(list(enumerate(c["channel_mult"]))):
        for r in range(c["num_res_blocks"] + 1):
            s += res(f"{p}output_blocks.{i}.0.", ch + chans.pop(), mult * mc)
            ch, j = mult * mc, 1
            if c["transformer_depth"][level]:
                s += st(f"{p}output_blocks.{i}.1.", ch, c["transformer_depth"][level])
                j = 2
            if level and r == c["num_res_blocks"]:
                s += conv(f"{p}output_blocks.{i}.{j}.conv", ch, ch, 3)
            i += 1
    return s + norm(p + "out.0", ch) + conv(p + "out.2", ch, c["out_channels"], 3)


def clip_spec(c, p="cond_stage_model.transformer.text_model."):
    d, m = c["hidden_size"], c["intermediate_size"]
    s = [(p + "embeddings.token_embedding.weight", (c["vocab_size"], d)),
         (p + "embeddings.position_embedding.weight", (c["max_position_embeddings"], d))]
    for i in range(c["num_hidden_layers"]):
        q = f"{p}encoder.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s += linear(q + "self_attn." + n, d, d)
        s += norm(q + "layer_norm1", d) + linear(q + "mlp.fc1", d, m) + linear(q + "mlp.fc2", m, d) + norm(q + "layer_norm2", d)
    return s + norm(p + "final_layer_norm", d)


def vae_spec(c, p="first_stage_model."):
    ch, mults, n = c["ch"], c["ch_mult"], c["num_res_blocks"]

    def res(q, cin, cout):
        r = norm(q + "norm1", cin) + conv(q + "conv1", cin, cout, 3) + norm(q + "norm2", cout) + conv(q + "conv2", cout, cout, 3)
        return r + (conv(q + "nin_shortcut", cin, cout, 1) if cin != cout else [])

    def mid(q, c_):
        a = norm(q + "attn_1.norm", c_) + sum((conv(q + "attn_1." + x, c_, c_, 1) for x in ("q", "k", "v", "proj_out")), [])
        return res(q + "block_1.", c_, c_) + a + res(q + "block_2.", c_, c_)

    e = p + "encoder."
    s = conv(e + "conv_in", c["in_channels"], ch, 3)
    cin = ch
    for i, mult in enumerate(mults):
        for j in range(n):
            s += res(f"{e}down.{i}.block.{j}.", cin, ch * mult)
            cin = ch * mult
        if i != len(mults) - 1:
            s += conv(f"{e}down.{i}.downsample.conv", cin, cin, 3)
    s += mid(e + "mid.", cin) + norm(e + "norm_out", cin) + conv(e + "conv_out", cin, 2 * c["z_channels"], 3)
    d = p + "decoder."
    cin = ch * mults[-1]
    s += conv(d + "conv_in", c["z_channels"], cin, 3) + mid(d + "mid.", cin)
    for i in reversed(range(len(mults))):
        for j in range(n + 1):
            s += res(f"{d}up.{i}.block.{j}.", cin, ch * mults[i])
            cin = ch * mults[i]
        if i != 0:
            s += conv(f"{d}up.{i}.upsample.conv", cin, cin, 3)
    s += norm(d + "norm_out", cin) + conv(d + "conv_out", cin, c["out_ch"], 3)
    s += conv(p + "quant_conv", 2 * c["z_channels"], 2 * c["embed_dim"], 1)
    return s + conv(p + "post_quant_conv", c["embed_dim"], c["z_channels"], 1)


def random_weights(spec, gen):
    """Weights scaled by 1/sqrt(fan-in), norms near 1, small biases: activations stay O(1)."""
    sd = {}
    for name, shape in spec:
        t = torch.randn(shape, generator=gen)
        if name.endswith(".bias"):
            t = t * 0.1
        elif len(shape) == 1:
            t = 1 + 0.1 * t
        elif "embedding" in name:
            t = t * 0.5
        else:
            t = t / math.sqrt(math.prod(shape[1:]))
        sd[name] = t.half().float()  # stored as float16; computed in float32
    return sd


# ---------------------------------------------------------------------------------------------------------------------
# Forward passes, reading the state dict by name.


def lin(sd, p, x):
    return F.linear(x, sd[p + ".weight"], sd.get(p + ".bias"))


def cnv(sd, p, x, stride=1, padding=None):
    w = sd[p + ".weight"]
    return F.conv2d(x, w, sd[p + ".bias"], stride, w.shape[-1] // 2 if padding is None else padding)


def gn(sd, p, x, eps):
    return F.group_norm(x, 32, sd[p + ".weight"], sd[p + ".bias"], eps)


def ln(sd, p, x):
    return F.layer_norm(x, x.shape[-1:], sd[p + ".weight"], sd[p + ".bias"], 1e-5)


def attention(q, k, v, heads, mask=None):
    b, n, c = q.shape
    split = lambda t: t.reshape(b, t.shape[1], heads, c // heads).permute(0, 2, 1, 3)
    q, k, v = split(q), split(k), split(v)
    w = q @ k.transpose(-1, -2) / math.sqrt(c // heads)
    if mask is not None:
        w = w + mask
    return (w.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(b, n, c)


def clip_forward(sd, c, ids, layer, p="cond_stage_model.transformer.text_model."):
    """Returns (hidden state of `layer` (-1 last, -2 penultimate) after final_layer_norm, the same without it, pooled)."""
    n = ids.shape[1]
    x = sd[p + "embeddings.token_embedding.weight"][ids] + sd[p + "embeddings.position_embedding.weight"][:n]
    mask = torch.full((n, n), float("-inf")).triu(1)
    act = (lambda t: t * torch.sigmoid(1.702 * t)) if c["hidden_act"] == "quick_gelu" else F.gelu
    layers = c["num_hidden_layers"]
    keep = layers + layer if layer < 0 else layer
    chosen = None
    for i in range(layers):
        q = f"{p}encoder.layers.{i}."
        h = ln(sd, q + "layer_norm1", x)
        a = attention(lin(sd, q + "self_attn.q_proj", h), lin(sd, q + "self_attn.k_proj", h),
                      lin(sd, q + "self_attn.v_proj", h), c["num_attention_heads"], mask)
        x = x + lin(sd, q + "self_attn.out_proj", a)
        x = x + lin(sd, q + "mlp.fc2", act(lin(sd, q + "mlp.fc1", ln(sd, q + "layer_norm2", x))))
        if i == keep:
            chosen = x
    last = ln(sd, p + "final_layer_norm", x)
    pooled = last[torch.arange(ids.shape[0]), ids.argmax(-1)]
    return ln(sd, p + "final_layer_norm", chosen), chosen, pooled


def unet_forward(sd, c, x, t, ctx, p="model.diffusion_model.", y=None, block=None, control=None, encoder_only=False,
                 attn2_patch=None):
    """block(run, prefix, h, skip_shape) runs one input/middle/output block; None calls it directly (the bench passes
    a torch.utils.checkpoint wrapper). control = {"output": [one per input block], "middle": tensor} adds ControlNet
    residuals as LDM/ComfyUI do (to the skip saved after input block i, and after the middle block); encoder_only
    returns the middle block's output (a ControlNet's encoder copy has no decoder). attn2_patch(prefix, index, q, out,
    heads) may replace each cross-attention's output before to_out (make_ipadapter_fixtures.py); the prefix names the
    SpatialTransformer."""
    mc = c["model_channels"]
    half = mc // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    temb = torch.cat([torch.cos(args), torch.sin(args)], -1)
    emb = lin(sd, p + "time_embed.2", F.silu(lin(sd, p + "time_embed.0", temb)))
    if y is not None:  # SDXL ADM vector through label_emb, added to the time embedding
        emb = emb + lin(sd, p + "label_emb.0.2", F.silu(lin(sd, p + "label_emb.0.0", y)))

    def res(q, h):
        r = cnv(sd, q + "in_layers.2", F.silu(gn(sd, q + "in_layers.0", h, 1e-5)))
        r = r + lin(sd, q + "emb_layers.1", F.silu(emb))[:, :, None, None]
        r = cnv(sd, q + "out_layers.3", F.silu(gn(sd, q + "out_layers.0", r, 1e-5)))
        return (cnv(sd, q + "skip_connection", h) if q + "skip_connection.weight" in sd else h) + r

    def heads_for(ch):
        return c["num_heads"] if c["num_head_channels"] == -1 else ch // c["num_head_channels"]

    def st(q, h):
        b, ch, hh, ww = h.shape
        heads, linear_proj = heads_for(ch), c["use_linear_in_transformer"]
        z = gn(sd, q + "norm", h, 1e-6)
        if not linear_proj:
            z = cnv(sd, q + "proj_in", z)
        z = z.flatten(2).transpose(1, 2)
        if linear_proj:
            z = lin(sd, q + "proj_in", z)
        d = 0
        while f"{q}transformer_blocks.{d}.norm1.weight" in sd:
            bq = f"{q}transformer_blocks.{d}."
            for a, kv in (("attn1", None), ("attn2", ctx)):
                y = ln(sd, bq + ("norm1" if a == "attn1" else "norm2"), z)
                src = y if kv is None else kv
                qv = lin(sd, bq + a + ".to_q", y)
                o = attention(qv, lin(sd, bq + a + ".to_k", src), lin(sd, bq + a + ".to_v", src), heads)
                if a == "attn2" and attn2_patch is not None:
                    o = attn2_patch(q, d, qv, o, heads)
                z = z + lin(sd, bq + a + ".to_out.0", o)
            y, gate = lin(sd, bq + "ff.net.0.proj", ln(sd, bq + "norm3", z)).chunk(2, -1)
            z = z + lin(sd, bq + "ff.net.2", y * F.gelu(gate))
            d += 1
        if linear_proj:
            z = lin(sd, q + "proj_out", z)
        z = z.transpose(1, 2).reshape(b, ch, hh, ww)
        if not linear_proj:
            z = cnv(sd, q + "proj_out", z)
        return z + h

    def run(q, h, skip_shape=None):
        j = 0
        while any(k.startswith(f"{q}{j}.") for k in sd):
            r = f"{q}{j}."
            if r + "op.weight" in sd:
                h = cnv(sd, r + "op", h, stride=2, padding=1)
            elif r + "conv.weight" in sd:
                size = skip_shape[-2:] if skip_shape is not None else (h.shape[2] * 2, h.shape[3] * 2)
                h = cnv(sd, r + "conv", F.interpolate(h, size=size, mode="nearest"))
            elif r + "in_layers.0.weight" in sd:
                h = res(r, h)
            elif r + "norm.weight" in sd:
                h = st(r, h)
            else:
                h = cnv(sd, r[:-1], h)
            j += 1
        return h

    def run_block(q, h, skip_shape=None):
        return run(q, h, skip_shape) if block is None else block(run, q, h, skip_shape)

    hs, h, i = [], x, 0
    while p + f"input_blocks.{i}.0.weight" in sd or any(k.startswith(f"{p}input_blocks.{i}.") for k in sd):
        h = run_block(f"{p}input_blocks.{i}.", h)
        hs.append(h)
        i += 1
    h = run_block(p + "middle_block.", h)
    if encoder_only:
        return h
    if control is not None:
        h = h + control["middle"]
    i = 0
    while any(k.startswith(f"{p}output_blocks.{i}.") for k in sd):
        skip = hs.pop()
        if control is not None:
            skip = skip + control["output"][len(hs)]
        h = torch.cat([h, skip], 1)
        h = run_block(f"{p}output_blocks.{i}.", h, hs[-1].shape if hs else None)
        i += 1
    return cnv(sd, p + "out.2", F.silu(gn(sd, p + "out.0", h, 1e-5)))


def vae_res(sd, q, x):
    h = cnv(sd, q + "conv1", F.silu(gn(sd, q + "norm1", x, 1e-6)))
    h = cnv(sd, q + "conv2", F.silu(gn(sd, q + "norm2", h, 1e-6)))
    return (cnv(sd, q + "nin_shortcut", x) if q + "nin_shortcut.weight" in sd else x) + h


def vae_attn(sd, q, x):
    b, c, hh, ww = x.shape
    h = gn(sd, q + "norm", x, 1e-6)
    qkv = [cnv(sd, q + n, h).reshape(b, c, hh * ww) for n in ("q", "k", "v")]
    w = torch.softmax(qkv[0].transpose(1, 2) @ qkv[1] / math.sqrt(c), dim=-1)  # [b, query, key]
    o = (qkv[2] @ w.transpose(1, 2)).reshape(b, c, hh, ww)
    return x + cnv(sd, q + "proj_out", o)


def vae_mid(sd, q, h):
    return vae_res(sd, q + "block_2.", vae_attn(sd, q + "attn_1.", vae_res(sd, q + "block_1.", h)))


def vae_encode_mean(sd, c, x, p="first_stage_model."):
    e = p + "encoder."
    h = cnv(sd, e + "conv_in", x)
    for i in range(len(c["ch_mult"])):
        for j in range(c["num_res_blocks"]):
            h = vae_res(sd, f"{e}down.{i}.block.{j}.", h)
        if i != len(c["ch_mult"]) - 1:
            h = cnv(sd, f"{e}down.{i}.downsample.conv", F.pad(h, (0, 1, 0, 1)), stride=2, padding=0)
    h = vae_mid(sd, e + "mid.", h)
    h = cnv(sd, e + "conv_out", F.silu(gn(sd, e + "norm_out", h, 1e-6)))
    moments = cnv(sd, p + "quant_conv", h)
    return moments.chunk(2, 1)[0]


def vae_decode(sd, c, z, p="first_stage_model."):
    d = p + "decoder."
    h = cnv(sd, d + "conv_in", cnv(sd, p + "post_quant_conv", z))
    h = vae_mid(sd, d + "mid.", h)
    for i in reversed(range(len(c["ch_mult"]))):
        for j in range(c["num_res_blocks"] + 1):
            h = vae_res(sd, f"{d}up.{i}.block.{j}.", h)
        if i != 0:
            h = cnv(sd, f"{d}up.{i}.upsample.conv", F.interpolate(h, scale_factor=2.0, mode="nearest"))
    return cnv(sd, d + "conv_out", F.silu(gn(sd, d + "norm_out", h, 1e-6)))


# ---------------------------------------------------------------------------------------------------------------------

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in tensors:
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def write_weight_recipe(path, seed, specs, metadata):
    """The checkpoint as a recipe instead of weights: the generator seed, every (name, shape) in drawing order and the
    metadata. The C# tests rebuild the identical file (our Generator draws torch.randn's numbers), so no model weights
    are committed."""
    weights = [[name, list(shape)] for spec in specs for name, shape in spec]
    with open(path, "w") as f:
        json.dump({"seed": seed, "metadata": metadata, "weights": weights}, f, separators=(",", ":"))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    seed = 20240611
    gen = torch.Generator().manual_seed(seed)
    specs = (unet_spec(UNET), clip_spec(CLIP), vae_spec(VAE))
    sd = {}
    for spec in specs:
        sd.update(random_weights(spec, gen))

    io = {}
    # CLIP: two prompts of different lengths; start 998, end (= the largest id) 999, padded with the end token.
    ids = torch.full((2, 77), 999, dtype=torch.int64)
    for row, length in enumerate((5, 12)):
        ids[row, 0] = 998
        ids[row, 1:1 + length] = torch.randint(0, 998, (length,), generator=gen)
    io["clip.ids"] = ids
    with torch.no_grad():
        io["clip.last"], _, io["clip.pooled"] = clip_forward(sd, CLIP, ids, -1)
        io["clip.penultimate"], io["clip.penultimate_raw"], _ = clip_forward(sd, CLIP, ids, -2)

        # UNet: a CFG-style batch of 2 with different timesteps and contexts; then an odd-sized latent with a
        # two-chunk (154-token) context.
        io["unet.x"] = torch.randn(2, 4, 8, 6, generator=gen)
        io["unet.t"] = torch.tensor([981.0, 37.5])
        io["unet.context"] = torch.randn(2, 77, UNET["context_dim"], generator=gen)
        io["unet.out"] = unet_forward(sd, UNET, io["unet.x"], io["unet.t"], io["unet.context"])
        io["unet_odd.x"] = torch.randn(1, 4, 7, 5, generator=gen)
        io["unet_odd.t"] = torch.tensor([500.0])
        io["unet_odd.context"] = torch.randn(1, 154, UNET["context_dim"], generator=gen)
        io["unet_odd.out"] = unet_forward(sd, UNET, io["unet_odd.x"], io["unet_odd.t"], io["unet_odd.context"])

        # VAE: a 48x32 image in [-1, 1] (latent 6x4), and a decode of a random latent.
        io["vae.image"] = torch.rand(1, 3, 48, 32, generator=gen) * 2 - 1
        io["vae.mean"] = vae_encode_mean(sd, VAE, io["vae.image"])
        io["vae.latent"] = torch.randn(1, 4, 6, 4, generator=gen)
        io["vae.decoded"] = vae_decode(sd, VAE, io["vae.latent"])

    meta = {"charactergen.config": json.dumps(CONFIG, separators=(",", ":")), "generator": "make_model_fixtures.py"}
    write_weight_recipe(os.path.join(out, "sd15_tiny.weights.json"), seed, specs, meta)
    write_safetensors(os.path.join(out, "sd15_tiny_io.safetensors"), io, {"torch": torch.__version__})
    count = sum(v.numel() for v in sd.values())
    print(f"{len(sd)} weights, {count} parameters; io: " + ", ".join(f"{k}{list(v.shape)}" for k, v in io.items()))
    for k, v in io.items():
        if v.is_floating_point():
            print(f"  {k}: std {v.std():.3f} max {v.abs().max():.3f}")


if __name__ == "__main__":
    main()
