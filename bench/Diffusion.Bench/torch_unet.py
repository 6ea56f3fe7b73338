#!/usr/bin/env python3
"""Seconds per SD1.5 UNet forward (batch 2, as one CFG step) in PyTorch 1.13 eager, printed as JSON.

The network is the independent plain-PyTorch LDM UNet of tests/Diffusion.Tests/Fixtures/make_model_fixtures.py,
with full SD1.5 shapes and random weights (fan-in scaled, as the C# side initialises them).
Usage: torch_unet.py REPO_ROOT THREADS [--sdxl] LATENT_SIZE:RUNS [LATENT_SIZE:RUNS ...]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(sys.argv[1], "tests", "Diffusion.Tests", "Fixtures"))
import make_model_fixtures as ref  # noqa: E402

torch.set_num_threads(int(sys.argv[2]))
SD15 = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=[1, 2, 4, 4], num_res_blocks=2,
            transformer_depth=[1, 1, 1, 0], transformer_depth_middle=1, context_dim=768, num_heads=8,
            num_head_channels=-1, use_linear_in_transformer=False)
SDXL = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=[1, 2, 4], num_res_blocks=2,
            transformer_depth=[0, 2, 10], transformer_depth_middle=10, context_dim=2048, num_heads=-1,
            num_head_channels=64, use_linear_in_transformer=True, adm_in_channels=2816)
sdxl = "--sdxl" in sys.argv
config = SDXL if sdxl else SD15
gen = torch.Generator().manual_seed(0)
sd = ref.random_weights(ref.unet_spec(config), gen)
results = {}
with torch.no_grad():
    for arg in [a for a in sys.argv[3:] if a != "--sdxl"]:
        size, runs = map(int, arg.split(":"))
        x = torch.randn(2, 4, size, size, generator=gen)
        t = torch.tensor([500.0, 500.0])
        ctx = torch.randn(2, 77, config["context_dim"], generator=gen)
        y = torch.randn(2, 2816, generator=gen) if sdxl else None
        if not sdxl:
            ref.unet_forward(sd, config, x, t, ctx)  # warm-up (skipped for SDXL: one step takes minutes)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = ref.unet_forward(sd, config, x, t, ctx, y=y)
            times.append(time.perf_counter() - t0)
        assert torch.isfinite(out).all()
        results[str(size)] = sum(times) / len(times)
print(json.dumps(results))
