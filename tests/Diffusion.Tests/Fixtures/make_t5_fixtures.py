#!/usr/bin/env python3
"""Writes t5_tiny.weights.json (the recipe of a tiny T5 v1.1 encoder in HF T5EncoderModel key names; the C# tests
rebuild the identical file) and t5_tiny_io.safetensors (ids and last hidden states).

Run with Debian's python3-torch:  /usr/bin/python3 make_t5_fixtures.py [out_dir]

An independent plain-PyTorch reference for src/Diffusion/Models/T5, written from the T5 v1.1 description
(../shared/reference/next-wave.md §C5; HF modeling_t5 semantics): RMSNorm without mean or bias, attention without
1/sqrt(d) scaling plus block 0's relative-position bias added in every layer, gated-GELU (tanh) feed-forward, final
RMSNorm. Buckets are computed per pair with Python's math, not torch. Weights stored float16, maths in float32.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

from make_model_fixtures import random_weights, write_safetensors, write_weight_recipe

T5 = dict(vocab=120, d_model=64, heads=4, d_kv=16, d_ff=96, layers=3, buckets=32, max_distance=128)


def t5_spec(c):
    d, inner = c["d_model"], c["heads"] * c["d_kv"]
    s = [("shared.weight", (c["vocab"], d))]
    for i in range(c["layers"]):
        q = f"encoder.block.{i}.layer."
        s += [(q + "0.SelfAttention." + n + ".weight", (inner, d)) for n in ("q", "k", "v")]
        s += [(q + "0.SelfAttention.o.weight", (d, inner))]
        if i == 0:
            s += [(q + "0.SelfAttention.relative_attention_bias.weight", (c["buckets"], c["heads"]))]
        s += [(q + "0.layer_norm.weight", (d,))]
        s += [(q + "1.DenseReluDense.wi_0.weight", (c["d_ff"], d)), (q + "1.DenseReluDense.wi_1.weight", (c["d_ff"], d)),
              (q + "1.DenseReluDense.wo.weight", (d, c["d_ff"])), (q + "1.layer_norm.weight", (d,))]
    return s + [("encoder.final_layer_norm.weight", (d,))]


def bucket(rel, buckets, max_distance):
    half = buckets // 2
    b = half if rel > 0 else 0
    n = abs(rel)
    exact = half // 2
    if n < exact:
        return b + n
    large = exact + int(math.log(n / exact) / math.log(max_distance / exact) * (half - exact))
    return b + min(large, half - 1)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def t5_forward(sd, c, ids):
    b, n = ids.shape
    h, dk = c["heads"], c["d_kv"]
    x = sd["shared.weight"][ids]
    table = sd["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    idx = torch.tensor([[bucket(k - q, c["buckets"], c["max_distance"]) for k in range(n)] for q in range(n)])
    bias = table[idx].permute(2, 0, 1)[None]  # [1, heads, q, k]
    for i in range(c["layers"]):
        p = f"encoder.block.{i}.layer."
        y = rms(x, sd[p + "0.layer_norm.weight"])
        q, k, v = (F.linear(y, sd[p + "0.SelfAttention." + t + ".weight"]).view(b, n, h, dk).transpose(1, 2) for t in "qkv")
        w = torch.softmax(q @ k.transpose(-1, -2) + bias, -1)
        x = x + F.linear((w @ v).transpose(1, 2).reshape(b, n, h * dk), sd[p + "0.SelfAttention.o.weight"])
        y = rms(x, sd[p + "1.layer_norm.weight"])
        g = F.gelu(F.linear(y, sd[p + "1.DenseReluDense.wi_0.weight"]), approximate="tanh")
        x = x + F.linear(g * F.linear(y, sd[p + "1.DenseReluDense.wi_1.weight"]), sd[p + "1.DenseReluDense.wo.weight"])
    return rms(x, sd["encoder.final_layer_norm.weight"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    seed = 20261205
    spec = t5_spec(T5)
    sd = random_weights(spec, torch.Generator().manual_seed(seed))
    gen = torch.Generator().manual_seed(seed + 1)
    io = {}
    with torch.no_grad():
        # two prompts of 14 tokens (ids ending in </s> = 1, padded with 0), and one of 150 tokens (buckets past 128)
        ids = torch.randint(3, T5["vocab"], (2, 14), generator=gen)
        ids[0, 9], ids[0, 10:] = 1, 0
        ids[1, 13] = 1
        io["t5.ids"] = ids
        io["t5.out"] = t5_forward(sd, T5, ids)
        io["t5_long.ids"] = torch.randint(3, T5["vocab"], (1, 150), generator=gen)
        io["t5_long.out"] = t5_forward(sd, T5, io["t5_long.ids"])
    write_weight_recipe(os.path.join(out, "t5_tiny.weights.json"), seed, [spec], {})
    write_safetensors(os.path.join(out, "t5_tiny_io.safetensors"), io, None)
    print("t5.out", tuple(io["t5.out"].shape), float(io["t5.out"].abs().max()))


if __name__ == "__main__":
    main()
