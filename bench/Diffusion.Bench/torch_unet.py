#!/usr/bin/env python3
"""Seconds per SD1.5 UNet forward (batch 2, as one CFG step) in PyTorch 1.13 eager, printed as JSON.

The network is the independent plain-PyTorch LDM UNet of tests/Diffusion.Tests/Fixtures/make_model_fixtures.py,
with full SD1.5 shapes and random weights (fan-in scaled, as the C# side initialises them).
Usage: torch_unet.py REPO_ROOT THREADS LATENT_SIZE:RUNS [LATENT_SIZE:RUNS ...]
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
gen = torch.Generator().manual_seed(0)
sd = ref.random_weights(ref.unet_spec(SD15), gen)
results = {}
with torch.no_grad():
    for arg in sys.argv[3:]:
        size, runs = map(int, arg.split(":"))
        x = torch.randn(2, 4, size, size, generator=gen)
        t = torch.tensor([500.0, 500.0])
        ctx = torch.randn(2, 77, 768, generator=gen)
        ref.unet_forward(sd, SD15, x, t, ctx)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = ref.unet_forward(sd, SD15, x, t, ctx)
            times.append(time.perf_counter() - t0)
        assert torch.isfinite(out).all()
        results[str(size)] = sum(times) / len(times)
print(json.dumps(results))
