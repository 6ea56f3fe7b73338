#!/usr/bin/env python3
"""Seconds per SD1.5 LoRA training step in PyTorch 1.13 eager, printed as JSON.

The UNet is the independent plain-PyTorch LDM UNet of tests/Diffusion.Tests/Fixtures/make_model_fixtures.py with full
SD1.5 shapes and random fan-in-scaled weights (frozen). LoRA (rank R, alpha R) sits beside every attention projection
(attn1/attn2 to_q, to_k, to_v, to_out.0) as a side branch, the way PEFT and kohya run it. One step: batch 1, timestep
500, noise, x_t, ε-MSE, backward, torch.optim.AdamW.step() and zero_grad(). CHECKPOINT=1 recomputes every
input/middle/output block in backward (torch.utils.checkpoint, non-reentrant). Prints the median of RUNS steps after
one warm-up step.
Usage: torch_lora_train.py REPO_ROOT THREADS LATENT_SIZE RANK RUNS [CHECKPOINT=0]
"""
import json
import statistics
import os
import re
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.checkpoint

sys.path.insert(0, os.path.join(sys.argv[1], "tests", "Diffusion.Tests", "Fixtures"))
import make_model_fixtures as ref  # noqa: E402

torch.set_num_threads(int(sys.argv[2]))
size, rank, runs = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
checkpointing = len(sys.argv) > 6 and sys.argv[6] == "1"
SD15 = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=[1, 2, 4, 4], num_res_blocks=2,
            transformer_depth=[1, 1, 1, 0], transformer_depth_middle=1, context_dim=768, num_heads=8,
            num_head_channels=-1, use_linear_in_transformer=False)
gen = torch.Generator().manual_seed(0)
sd = ref.random_weights(ref.unet_spec(SD15), gen)
target = re.compile(r"\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$")
lora = {}
for key, w in sd.items():
    module = key[:-len(".weight")]
    if key.endswith(".weight") and target.search(module):
        down = (torch.rand(rank, w.shape[1], generator=gen) * 2 - 1) / w.shape[1] ** 0.5
        lora[module] = (down.requires_grad_(True), torch.zeros(w.shape[0], rank, requires_grad=True))
plain_lin = ref.lin


def lin_with_lora(state, p, x):
    y = plain_lin(state, p, x)
    if p in lora:
        down, up = lora[p]
        y = y + F.linear(F.linear(x, down), up)  # alpha = rank: scale 1
    return y


ref.lin = lin_with_lora
opt = torch.optim.AdamW([p for pair in lora.values() for p in pair], lr=1e-4)
x0 = torch.randn(1, 4, size, size, generator=gen)
ctx = torch.randn(1, 77, 768, generator=gen)
t = torch.tensor([500.0])
ac = 0.2771  # ᾱ at t = 500; the value does not change the cost


def checkpointed(run, q, h, skip_shape):
    return torch.utils.checkpoint.checkpoint(lambda z: run(q, z, skip_shape), h, use_reentrant=False)


def step():
    noise = torch.randn(x0.shape, generator=gen)
    xt = ac ** 0.5 * x0 + (1 - ac) ** 0.5 * noise
    loss = F.mse_loss(ref.unet_forward(sd, SD15, xt, t, ctx, block=checkpointed if checkpointing else None), noise)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()


step()  # warm-up
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": statistics.median(times), "lora_layers": len(lora)}))
