#!/usr/bin/env python3
"""Seconds per SD1.5 (or SDXL) UNet forward (batch 2, as one CFG step) in PyTorch eager, printed as JSON.

The network is the independent plain-PyTorch LDM UNet of tests/Diffusion.Tests/Fixtures/make_model_fixtures.py,
with full SD1.5 shapes and random weights (fan-in scaled, as the C# side initialises them).
Usage: torch_unet.py REPO_ROOT THREADS [--sdxl] LATENT_SIZE:RUNS [LATENT_SIZE:RUNS ...]
  prints {"LATENT_SIZE": seconds, ...} (CPU, float32).
bench/gpu/run.sh adds: --config=NAME (sd15, sdxl, sd15-tiny, sdxl-tiny: the shapes of GpuUnet.cs), --device=DEVICE,
--dtype=DTYPE[,DTYPE...] and --lines: one JSON object per measurement (seconds per step, peak memory), as
`Diffusion.Bench gpu unet` prints them. Attention uses PyTorch's fused
scaled_dot_product_attention when it exists (2.x, as ComfyUI), weights are cast to the dtype and timing synchronises
the device.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(sys.argv[1], "tests", "Diffusion.Tests", "Fixtures"))
import make_model_fixtures as ref  # noqa: E402

SD15 = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=[1, 2, 4, 4], num_res_blocks=2,
            transformer_depth=[1, 1, 1, 0], transformer_depth_middle=1, context_dim=768, num_heads=8,
            num_head_channels=-1, use_linear_in_transformer=False)
SDXL = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=[1, 2, 4], num_res_blocks=2,
            transformer_depth=[0, 2, 10], transformer_depth_middle=10, context_dim=2048, num_heads=-1,
            num_head_channels=64, use_linear_in_transformer=True, adm_in_channels=2816)
CONFIGS = {
    "sd15": SD15, "sdxl": SDXL,
    # The CPU rehearsal's shapes (GpuUnet.Config): every block kind, a fraction of the width and depth.
    "sd15-tiny": dict(SD15, model_channels=64, context_dim=128),
    "sdxl-tiny": dict(SDXL, model_channels=64, transformer_depth=[0, 1, 2], transformer_depth_middle=2, context_dim=256,
                      adm_in_channels=256),
}
options = dict(a[2:].split("=", 1) for a in sys.argv[3:] if a.startswith("--") and "=" in a)
flags = {a for a in sys.argv[3:] if a.startswith("--") and "=" not in a}
sizes = [a for a in sys.argv[3:] if not a.startswith("--")]
name = options.get("config", "sdxl" if "--sdxl" in flags else "sd15")
config = CONFIGS[name]
device = torch.device(options.get("device", "cpu"))
dtypes = options.get("dtype", "float32").split(",")
cuda = device.type == "cuda"

torch.set_num_threads(int(sys.argv[2]))
if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2.x: the fused kernels, as ComfyUI uses them

    def sdpa_attention(q, k, v, heads, mask=None):
        b, n, c = q.shape
        split = lambda t: t.reshape(b, t.shape[1], heads, c // heads).transpose(1, 2)
        o = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask)
        return o.transpose(1, 2).reshape(b, n, c)

    ref.attention = sdpa_attention
plain_lin = ref.lin
ref.lin = lambda sd, p, x: plain_lin(sd, p, x.to(sd[p + ".weight"].dtype))  # float32 timestep features → dtype


def forward(sd, x, t, ctx, y):
    if device.type == "cpu":
        return ref.unet_forward(sd, config, x, t, ctx, y=y)
    with device:  # the reference makes its timestep frequencies with torch.arange on the default device
        return ref.unet_forward(sd, config, x, t, ctx, y=y)


def sync():
    if cuda:
        torch.cuda.synchronize(device)


def report(values):
    print(json.dumps(dict(side="pytorch", config=name, device=str(device), **values)), flush=True)


gen = torch.Generator().manual_seed(0)
t0 = time.perf_counter()
master = ref.random_weights(ref.unet_spec(config), gen)
if "--lines" in flags:
    report(dict(what="init", latent=0, dtype="float32", s=time.perf_counter() - t0))
results = {}
with torch.no_grad():
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        sd = {k: v.to(device, dtype) for k, v in master.items()}
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        for arg in sizes:
            size, runs = map(int, arg.split(":"))
            x = torch.randn(2, 4, size, size, generator=gen).to(device, dtype)
            t = torch.tensor([500.0, 500.0]).to(device)
            ctx = torch.randn(2, 77, config["context_dim"], generator=gen).to(device, dtype)
            y = torch.randn(2, config["adm_in_channels"], generator=gen).to(device, dtype) if "adm_in_channels" in config else None
            if name != "sdxl" or cuda:
                forward(sd, x, t, ctx, y)  # warm-up (skipped for SDXL on the CPU: a step takes minutes)
            sync()
            start = time.perf_counter()
            for _ in range(runs):
                out = forward(sd, x, t, ctx, y)
            sync()
            seconds = (time.perf_counter() - start) / runs
            finite = bool(torch.isfinite(out).all())
            assert finite or dtype != torch.float32
            results[str(size)] = seconds
            if "--lines" in flags:
                values = dict(what="unet_step", latent=size, dtype=dtype_name, s_per_step=seconds, finite=int(finite),
                              peak_host_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
                if cuda:
                    values["cuda_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
                    values["cuda_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
                report(values)
        del sd
if "--lines" not in flags:
    print(json.dumps(results))
