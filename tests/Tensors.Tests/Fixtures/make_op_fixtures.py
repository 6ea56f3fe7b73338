#!/usr/bin/env python3
"""Writes ops.safetensors: inputs and PyTorch 1.13 outputs for the op tests in OpFixtureTests.cs.

Run with Debian's python3-torch (same libtorch as the shim):  /usr/bin/python3 make_op_fixtures.py
Each case stores `<case>.in0`, `<case>.in1`, ... and `<case>.out`. Inputs come from a fixed seed so the file is
reproducible; the C# tests read the inputs from the file, so they do not depend on our own randn.
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
cases = {}


def r(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def case(name, inputs, out):
    for i, t in enumerate(inputs):
        cases[f"{name}.in{i}"] = t
    cases[f"{name}.out"] = out


a, b = r(2, 3, 4), r(3, 1)
case("add_broadcast", [a, b], a + b)
case("sub", [a, b], a - b)
case("mul", [a, b], a * b)
case("div", [a, b], a / b)
pos = r(5, 7).abs() + 0.1
case("exp", [a], a.exp())
case("log", [pos], pos.log())
case("sqrt", [pos], pos.sqrt())
case("pow_scalar", [pos], pos.pow(1.7))
case("sin", [a], a.sin())
case("cos", [a], a.cos())
case("clamp", [a], a.clamp(-0.5, 0.7))
c = a > 0
case("where", [c.to(torch.uint8), a, b.expand(2, 3, 4)], torch.where(c, a, b))
x = r(3, 4, 5)
case("sum_dim", [x], x.sum(dim=(0, 2)))
case("mean_keepdim", [x], x.mean(dim=1, keepdim=True))
case("var_unbiased", [x], x.var(dim=(1, 2)))
case("argmax_dim", [x], x.argmax(dim=2))
case("argmin_all", [x], x.argmin().reshape(1))

# nn
x, w, bias = r(2, 8), r(6, 8), r(6)
case("linear", [x, w, bias], F.linear(x, w, bias))
x, w, bias = r(2, 4, 9, 9), r(6, 2, 3, 3), r(6)
case("conv2d_s2_p1_g2", [x, w, bias], F.conv2d(x, w, bias, stride=2, padding=1, groups=2))
x, w, bias = r(1, 4, 5, 5), r(4, 3, 4, 4), r(3)
case("conv_transpose2d", [x, w, bias], F.conv_transpose2d(x, w, bias, stride=2, padding=1))
x, w, bias = r(2, 8, 6, 6), r(8), r(8)
case("group_norm", [x, w, bias], F.group_norm(x, 4, w, bias, eps=1e-6))
x, w, bias = r(2, 5, 16), r(16), r(16)
case("layer_norm", [x, w, bias], F.layer_norm(x, (16,), w, bias, eps=1e-5))
case("silu", [x], F.silu(x))
case("gelu", [x], F.gelu(x))
case("gelu_tanh", [x], F.gelu(x, approximate="tanh"))
case("softmax", [x], F.softmax(x, dim=-1))
q, k, v = r(2, 3, 7, 8), r(2, 3, 5, 8), r(2, 3, 5, 8)
scores = (q @ k.transpose(-2, -1)) / (8 ** 0.5)
case("attention", [q, k, v], scores.softmax(-1) @ v)
mask = torch.zeros(1, 1, 7, 5)
mask[..., 3:] = float("-inf")
case("attention_mask", [q, k, v, mask], (scores + mask).softmax(-1) @ v)
qc = r(1, 2, 6, 4)
sc = (qc @ qc.transpose(-2, -1)) / 2.0
causal = torch.ones(6, 6, dtype=torch.bool).tril()
case("attention_causal", [qc], sc.masked_fill(~causal, float("-inf")).softmax(-1) @ qc)
img = r(1, 3, 5, 7)
case("interp_nearest", [img], F.interpolate(img, size=(8, 11), mode="nearest"))
case("interp_nearest_exact", [img], F.interpolate(img, size=(8, 11), mode="nearest-exact"))
case("interp_bilinear", [img], F.interpolate(img, size=(8, 11), mode="bilinear", align_corners=False))
case("interp_bilinear_ac", [img], F.interpolate(img, size=(8, 11), mode="bilinear", align_corners=True))
case("interp_bicubic", [img], F.interpolate(img, size=(8, 11), mode="bicubic", align_corners=False))
case("interp_bicubic_aa", [img], F.interpolate(img, size=(3, 4), mode="bicubic", align_corners=False, antialias=True))
case("interp_bilinear_aa", [img], F.interpolate(img, size=(3, 4), mode="bilinear", align_corners=False, antialias=True))
case("interp_area", [img], F.interpolate(img, size=(3, 4), mode="area"))
case("interp_nearest_scale", [img], F.interpolate(img, scale_factor=1.5, mode="nearest"))
case("pad_constant", [img], F.pad(img, (1, 2, 0, 3), mode="constant", value=0.5))
case("pad_reflect", [img], F.pad(img, (2, 1, 1, 2), mode="reflect"))
case("pad_replicate", [img], F.pad(img, (2, 1, 1, 2), mode="replicate"))
m1, m2 = r(4, 6, 5), r(4, 5, 3)
case("matmul", [m1, m2], m1 @ m2)
case("bmm", [m1, m2], torch.bmm(m1, m2))
base = r(4, 6, 3)
case("baddbmm", [base, m1, m2], torch.baddbmm(base, m1, m2, beta=0.5, alpha=2.0))
case("avg_pool2d", [img], F.avg_pool2d(img, 2, 2))

# shape
x = r(2, 3, 4)
case("permute", [x], x.permute(2, 0, 1).contiguous())
case("transpose", [x], x.transpose(0, 2).contiguous())
case("narrow", [x], x.narrow(2, 1, 2).contiguous())
case("cat_dim1", [x, x * 2], torch.cat([x, x * 2], dim=1))
case("stack_dim0", [x, x * 2], torch.stack([x, x * 2], dim=0))
case("index_select", [x, torch.tensor([2, 0, 2])], x.index_select(1, torch.tensor([2, 0, 2])))
e = r(3, 1)
case("expand", [e], e.expand(3, 4).contiguous())

# dtypes
h = r(4, 5) * 100
case("to_f16", [h], h.to(torch.float16))
case("to_bf16", [h], h.to(torch.bfloat16))
case("arange", [], torch.arange(0.5, 7.0, 0.75))
case("linspace", [], torch.linspace(-1.0, 2.0, 9))

# autograd: d/dx and d/dw of sum(sin(x) * w)
x, w = r(3, 4).requires_grad_(), r(4).requires_grad_()
(x.sin() * w).sum().backward()
case("grad_sin_mul", [x.detach(), w.detach()], x.grad)
cases["grad_sin_mul.out_w"] = w.grad

# AdamW: three steps on fixed gradients.
p = r(5, 3)
grads = [r(5, 3) for _ in range(3)]
param = p.clone().requires_grad_()
opt = torch.optim.AdamW([param], lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05)
for g in grads:
    param.grad = g.clone()
    opt.step()
case("adamw_3_steps", [p, *grads], param.detach())

# Random: torch.manual_seed(s); torch.randn(shape)
for seed, shape in [(0, (3,)), (0, (16,)), (42, (1, 4, 64, 64)), (2**32 + 5, (2, 4, 8, 8))]:
    torch.manual_seed(seed)
    cases[f"randn_seed{seed}_n{'x'.join(map(str, shape))}"] = torch.randn(*shape)
g = torch.Generator().manual_seed(7)
first, second = torch.randn(10, generator=g), torch.randn(20, generator=g)
cases["randn_continue_seed7.first"], cases["randn_continue_seed7.second"] = first, second


DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64", torch.uint8: "U8",
          torch.bool: "BOOL", torch.float64: "F64"}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
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


write_safetensors(sys.argv[1] if len(sys.argv) > 1 else "ops.safetensors", cases,
                  {"generator": "make_op_fixtures.py", "torch": torch.__version__})
print(f"{len(cases)} tensors")
