#!/usr/bin/env python3
"""Recomputes the ops that `Diffusion.Bench gpu ops` wrote with PyTorch on the same device and dtype, and compares.

The file holds every op's float32 inputs and CharacterGen's output (upcast to float32); its metadata names each op's
kind and parameters. Each input is cast to the run's dtype on the device, the op runs in PyTorch, and the error is
max|ours - torch| / max(1, max|torch|), against a tolerance per dtype: two libraries picking different (equally valid)
kernels differ by a few units in the last place of the dtype, so the bound is a small multiple of its epsilon.
Prints one JSON object per op and a summary line; exits 1 when any op is outside its tolerance.
Usage: compare_ops.py OPS.safetensors [--json OUT.json]
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

TOLERANCE = {"float32": 1e-4, "float16": 1e-2, "bfloat16": 6e-2}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: expected F32, got {info['dtype']}")
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32) if end > begin else torch.zeros(0)
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    w = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(q.shape[-1]))
    return w.float().softmax(-1).to(q.dtype) @ v


def run(kind, args, a):
    if kind == "conv2d":
        return F.conv2d(a[0], a[1], a[2], int(args["stride"]), int(args["padding"]))
    if kind == "linear":
        return F.linear(a[0], a[1], a[2])
    if kind == "group_norm":
        return F.group_norm(a[0], int(args["groups"]), a[1], a[2], args["eps"])
    if kind == "layer_norm":
        return F.layer_norm(a[0], a[0].shape[-1:], a[1], a[2], args["eps"])
    if kind == "attention":
        return attention(a[0], a[1], a[2])
    if kind == "silu":
        return F.silu(a[0])
    if kind == "gelu":
        return F.gelu(a[0])
    if kind == "interpolate_nearest":
        return F.interpolate(a[0], scale_factor=args["scale"], mode="nearest")
    if kind == "matmul":
        return a[0] @ a[1]
    raise ValueError(f"unknown op kind {kind}")


def main():
    path = sys.argv[1]
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    tensors, meta = read_safetensors(path)
    device, dtype_name = meta["device"], meta["dtype"]
    dtype = getattr(torch, dtype_name)
    tolerance = TOLERANCE[dtype_name]
    results = []
    with torch.no_grad():
        for name, op in json.loads(meta["ops"]).items():
            inputs = [tensors[f"{name}.in{i}"].to(device, dtype) for i in range(op["inputs"])]
            ref = run(op["kind"], op, inputs).float().cpu()
            ours = tensors[f"{name}.out"]
            if ours.shape != ref.shape:
                err = math.inf
            else:
                err = ((ours - ref).abs().max() / max(1.0, ref.abs().max().item())).item()
            ok = err <= tolerance
            results.append(dict(op=name, kind=op["kind"], device=device, dtype=dtype_name, error=err, tolerance=tolerance, ok=ok))
            print(json.dumps(results[-1]))
    failed = [r["op"] for r in results if not r["ok"]]
    summary = dict(device=device, dtype=dtype_name, ours_libtorch=meta.get("libtorch"), ours_features=meta.get("features"),
                   torch=torch.__version__, ops=len(results), failed=failed)
    print(json.dumps(summary))
    if out_json:
        with open(out_json, "w") as f:
            json.dump(dict(summary=summary, ops=results), f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
