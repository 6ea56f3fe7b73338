#!/usr/bin/python3
"""Tiny ONNX models with the real input/output names and layouts, plus reference outputs, for tests/Nodes.Tests.

Run from anywhere with Debian's python (torch 1.13, numpy, Pillow and python3-opencv: `scripts/deps.sh fixtures`):

    /usr/bin/python3 tests/Nodes.Tests/Fixtures/Onnx/make_onnx_fixtures.py

It rewrites every file in this folder. The references are computed independently of CharacterGen: OpenCV's own
cv2.resize, Pillow's own resize, torch's interpolate, and the tiny networks run in torch (not ONNX Runtime).
Arrays are written raw (little-endian) and described in manifest.json (name -> file, dtype, shape).
"""
import json
import math
import os

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = {}


def save(name, array):
    array = np.ascontiguousarray(array)
    dtype = {np.dtype(np.uint8): "uint8", np.dtype(np.float32): "float32", np.dtype(np.float64): "float64",
             np.dtype(np.int32): "int32"}[array.dtype]
    file = name + ".bin"
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(array.astype(array.dtype.newbyteorder("<")).tobytes())
    MANIFEST[name] = {"file": file, "dtype": dtype, "shape": list(array.shape)}


def test_image(height, width, seed):
    """A picture with gradients, a disc and noise, so every resize path has edges and flat parts."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / width * 3.1 + seed)
    g = 255 * y / max(1, height - 1)
    b = np.where((x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(height, width) * 0.3) ** 2, 230.0, 30.0)
    img = np.stack([r, g, b], axis=2) + rng.uniform(-20, 20, size=(height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


# --- tiny depth networks --------------------------------------------------------------------------------------------

class TinyDepth(nn.Module):
    """A DPT stand-in: 3x3 conv to one channel, ReLU (as DPT's head ends), optionally half resolution, [N,H,W] or [N,1,H,W]."""

    def __init__(self, seed, pool=False, keep_channel=False):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 1, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(1, 3, 3, 3) * 0.2 + torch.tensor([0.6, 0.3, -0.2]).view(1, 3, 1, 1) / 9)
            self.conv.bias.fill_(1.5)
        self.pool = pool
        self.keep_channel = keep_channel

    def forward(self, x):
        d = F.relu(self.conv(x))
        if self.pool:
            d = F.avg_pool2d(d, 2)
        return d if self.keep_channel else d[:, 0]


def export(model, path, input_name, output_name, sample, dynamic):
    axes = None
    if dynamic:
        rank = 4 if model.keep_channel else 3
        out_axes = {0: "batch", rank - 2: "h", rank - 1: "w"}
        axes = {input_name: {0: "batch", 2: "height", 3: "width"}, output_name: out_axes}
    model.eval()
    torch.onnx.export(model, sample, os.path.join(HERE, path), input_names=[input_name], output_names=[output_name],
                      dynamic_axes=axes, opset_version=13)


def run_net(model, planar):
    with torch.no_grad():
        d = model(torch.from_numpy(planar)[None])
    return d.reshape(d.shape[-2], d.shape[-1])


# --- the comfyui_controlnet_aux pipelines, written from their Python ---------------------------------------------------

def aux_uint8(u8):
    """common_annotator_call: the IMAGE (uint8/255 as float32) back to uint8 by truncation."""
    image = torch.from_numpy(u8).float() / 255.0
    return np.asarray(image * 255.0, dtype=np.uint8)


def resize_with_pad(img, resolution):
    h, w = img.shape[:2]
    k = float(resolution) / float(min(h, w))
    th, tw = int(np.round(float(h) * k)), int(np.round(float(w) * k))
    img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
    ph, pw = int(np.ceil(th / 64.0) * 64 - th), int(np.ceil(tw / 64.0) * 64 - tw)
    return np.pad(img, [[0, ph], [0, pw], [0, 0]], mode="edge"), (th, tw)


def to_u8(depth):
    depth = (depth - depth.min()) / (depth.max() - depth.min()) * 255.0
    return depth.astype(np.uint8)


def da2_sizes(h, w, fixed=None):
    if fixed:
        return fixed

    def constrain(x):
        y = int(np.round(x / 14) * 14)
        return int(np.ceil(x / 14) * 14) if y < 518 else y

    scale = max(518 / h, 518 / w)
    return constrain(scale * h), constrain(scale * w)


def depth_anything_v2(u8, resolution, model, fixed=None):
    x = aux_uint8(u8)
    h, w = x.shape[:2]
    image = cv2.cvtColor(cv2.cvtColor(x, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2RGB) / 255.0
    nh, nw = da2_sizes(h, w, fixed)
    image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_CUBIC)
    image = (image - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    planar = np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.float32)
    depth = run_net(model, planar)
    depth = F.interpolate(depth[None, None], (h, w), mode="bilinear", align_corners=True)[0, 0].numpy()
    m = np.repeat(to_u8(depth)[..., None], 3, axis=2)
    m, (th, tw) = resize_with_pad(m, resolution)
    return m[:th, :tw]


def midas(u8, resolution, model):
    padded, (th, tw) = resize_with_pad(aux_uint8(u8), resolution)
    net = np.asarray(Image.fromarray(padded).resize((384, 384), Image.BILINEAR))
    x = (net.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    depth = run_net(model, np.ascontiguousarray(x.transpose(2, 0, 1)))
    depth = F.interpolate(depth[None, None], padded.shape[:2], mode="bicubic", align_corners=False)[0, 0].numpy()
    return np.repeat(to_u8(depth)[..., None], 3, axis=2)[:th, :tw]


def dpt_size(h, w):
    sh, sw = 518 / h, 518 / w
    if abs(1 - sw) < abs(1 - sh):
        sh = sw
    else:
        sw = sh
    return int(round(sh * h / 14) * 14), int(round(sw * w / 14) * 14)


def depth_anything_v1(u8, resolution, model):
    padded, (th, tw) = resize_with_pad(aux_uint8(u8), resolution)
    nh, nw = dpt_size(*padded.shape[:2])
    net = np.asarray(Image.fromarray(padded).resize((nw, nh), Image.BICUBIC))
    x = (net.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / np.array([0.229, 0.224, 0.225], dtype=np.float32)
    depth = run_net(model, np.ascontiguousarray(x.transpose(2, 0, 1)))
    depth = F.interpolate(depth[None, None], padded.shape[:2], mode="bicubic", align_corners=False)[0, 0].numpy()
    return np.repeat(to_u8(depth)[..., None], 3, axis=2)[:th, :tw]


def depth_fixtures():
    hf = TinyDepth(seed=1)
    fabio = TinyDepth(seed=2, pool=True, keep_channel=True)
    fixed = TinyDepth(seed=3)
    export(hf, "depth_hf.onnx", "pixel_values", "predicted_depth", torch.zeros(1, 3, 28, 42), dynamic=True)
    export(fabio, "depth_fabio.onnx", "image", "depth", torch.zeros(1, 3, 28, 42), dynamic=True)
    export(fixed, "depth_fixed.onnx", "pixel_values", "predicted_depth", torch.zeros(1, 3, 140, 182), dynamic=False)
    export(TinyDepth(seed=4), "depth_wrong_names.onnx", "x", "y", torch.zeros(1, 3, 28, 42), dynamic=True)

    # (name, H, W, resolution): shrink by a non-integer factor (general INTER_AREA), by exactly 2 (the fast path),
    # enlarge (8-bit INTER_CUBIC).
    cases = [("shrink", 50, 70, 32), ("half", 48, 64, 24), ("enlarge", 30, 44, 64)]
    for name, h, w, res in cases:
        u8 = test_image(h, w, seed=len(name))
        save(f"depth_input_{name}", u8)
        save(f"da2_hf_{name}_{res}", depth_anything_v2(u8, res, hf))
        save(f"da2_fabio_{name}_{res}", depth_anything_v2(u8, res, fabio))
        save(f"da2_fixed_{name}_{res}", depth_anything_v2(u8, res, fixed, fixed=(140, 182)))
        save(f"midas_hf_{name}_{res}", midas(u8, res, hf))
        save(f"da1_hf_{name}_{res}", depth_anything_v1(u8, res, hf))


def resize_fixtures():
    """cv2 and Pillow resizes on their own, so the C# resizers are checked before any network."""
    u8 = test_image(37, 53, seed=7)
    save("resize_input", u8)
    for (h, w) in [(18, 26), (20, 30), (12, 17), (74, 106), (41, 59)]:
        if h <= 37 and w <= 53:
            save(f"cv_area_{h}x{w}", cv2.resize(u8, (w, h), interpolation=cv2.INTER_AREA))
        save(f"cv_cubic_u8_{h}x{w}", cv2.resize(u8, (w, h), interpolation=cv2.INTER_CUBIC))
        if h * w < 3000:
            save(f"cv_cubic_f64_{h}x{w}", cv2.resize(u8 / 255.0, (w, h), interpolation=cv2.INTER_CUBIC))
        save(f"pil_bilinear_{h}x{w}", np.asarray(Image.fromarray(u8).resize((w, h), Image.BILINEAR)))
        save(f"pil_bicubic_{h}x{w}", np.asarray(Image.fromarray(u8).resize((w, h), Image.BICUBIC)))
    even = test_image(36, 54, seed=8)
    save("resize_input_even", even)
    save("cv_area_half", cv2.resize(even, (27, 18), interpolation=cv2.INTER_AREA))
    save("cv_area_third", cv2.resize(even, (18, 12), interpolation=cv2.INTER_AREA))


if __name__ == "__main__":
    resize_fixtures()
    depth_fixtures()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(MANIFEST)} arrays to {HERE}")
