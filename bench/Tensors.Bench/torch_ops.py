#!/usr/bin/env python3
"""The same ops as OpBenchmarks.cs in PyTorch 1.13 (Debian python3-torch), printed as JSON: name -> median seconds."""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())
torch.manual_seed(0)
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
x, w, bias = torch.randn(1, 320, 64, 64), torch.randn(320, 320, 3, 3), torch.randn(320)
ops = {"Matmul2048": lambda: torch.matmul(a, b), "Conv2d320x64x64": lambda: F.conv2d(x, w, bias, padding=1)}


def measure(fn, warmup=5, runs=30):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]  # median: robust to stray stalls on a shared machine


with torch.no_grad():
    print(json.dumps({name: measure(fn) for name, fn in ops.items()}))
