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
    one_side = TinyDepth(seed=5).eval()
    torch.onnx.export(one_side, torch.zeros(1, 3, 28, 42), os.path.join(HERE, "depth_one_side_fixed.onnx"),
                      input_names=["pixel_values"], output_names=["predicted_depth"],
                      dynamic_axes={"pixel_values": {2: "height"}, "predicted_depth": {1: "height"}}, opset_version=13)

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
        save(f"cv_linear_{h}x{w}", cv2.resize(u8, (w, h)))
    even = test_image(36, 54, seed=8)
    save("resize_input_even", even)
    save("cv_area_half", cv2.resize(even, (27, 18), interpolation=cv2.INTER_AREA))
    save("cv_area_third", cv2.resize(even, (18, 12), interpolation=cv2.INTER_AREA))


# --- InsightFace: a tiny SCRFD (9 outputs, det_10g's layout and names) and a tiny ArcFace ---------------------------

STRIDES = (8, 16, 32)
# landmark offsets from the anchor in strides: eyes, nose, mouth corners, a little rotated so alignment has work to do
KPS_TEMPLATE = [-2.7, -2.7, 2.4, -3.3, 0.0, 0.3, -2.1, 2.7, 1.8, 2.1]


class TinyScrfd(nn.Module):
    """Outputs named as the SCRFD repository's export names them (det_10g's are numbers, which torch 1.13 refuses;
    InsightFace reads them by position either way). Per stride: 1x1 convs over the stride-pooled picture -> sigmoid scores [K*2, 1], box distances [K*2, 4] and
    landmark offsets [K*2, 10], anchors of a cell adjacent (the real export's layout). Bright parts score high."""

    def __init__(self):
        super().__init__()
        self.score = nn.ModuleList([nn.Conv2d(3, 2, 1) for _ in STRIDES])
        self.box = nn.ModuleList([nn.Conv2d(3, 8, 1) for _ in STRIDES])
        self.kps = nn.ModuleList([nn.Conv2d(3, 20, 1) for _ in STRIDES])
        with torch.no_grad():
            for level in range(len(STRIDES)):
                self.score[level].weight.fill_(2.0)
                self.score[level].bias.copy_(torch.tensor([-2.0 - 0.4 * level, -1.7 - 0.4 * level]))
                self.box[level].weight.zero_()
                self.box[level].weight[:, 0] = 0.2
                self.box[level].bias.fill_(4.0)
                self.kps[level].weight.zero_()
                self.kps[level].weight[:, 1] = 0.1
                self.kps[level].bias.copy_(torch.tensor(KPS_TEMPLATE * 2))

    def forward(self, x):
        scores, boxes, kps = [], [], []
        for level, stride in enumerate(STRIDES):
            f = F.avg_pool2d(x, stride)
            scores.append(torch.sigmoid(self.score[level](f)).permute(0, 2, 3, 1).reshape(-1, 1))
            boxes.append(self.box[level](f).permute(0, 2, 3, 1).reshape(-1, 4))
            kps.append(self.kps[level](f).permute(0, 2, 3, 1).reshape(-1, 10))
        return (*scores, *boxes, *kps)


class TinyArcFace(nn.Module):
    """[N,3,112,112] -> 16x16 mean pool -> linear to 32 -> 16 scaled copies = [N, 512]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(11)
        self.fc = nn.Linear(147, 32)
        self.register_buffer("mix", torch.linspace(-1.0, 1.5, 16))

    def forward(self, x):
        y = self.fc(F.avg_pool2d(x, 16).flatten(1))
        return (y[:, None, :] * self.mix[None, :, None]).reshape(x.shape[0], 512)


ARCFACE_DST = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                        [70.7299, 92.2041]], dtype=np.float32)


def umeyama(src, dst):
    """Least-squares similarity (Umeyama 1991) with numpy's SVD, scale estimated."""
    n, dim = src.shape
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    sc, dc = src - src_mean, dst - dst_mean
    cov = dc.T @ sc / n
    d = np.ones(dim)
    if np.linalg.det(cov) < 0:
        d[-1] = -1
    u, s, vt = np.linalg.svd(cov)
    rot = u @ np.diag(d) @ vt
    scale = (s @ d) / sc.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = rot * scale
    m[:, 2] = dst_mean - scale * rot @ src_mean
    return m


def estimate_norm(kps, size):
    if size % 112 == 0:
        ratio, shift = size / 112.0, 0.0
    else:
        ratio = size / 128.0
        shift = 8.0 * ratio
    dst = ARCFACE_DST * ratio
    dst[:, 0] += shift
    return umeyama(kps.astype(np.float64), dst.astype(np.float64))


def norm_crop(bgr, kps, size):
    return cv2.warpAffine(bgr, estimate_norm(kps, size), (size, size), borderValue=0.0)


def scrfd_detect(model, bgr, size):
    h, w = bgr.shape[:2]
    ratio = float(h) / w
    if ratio > 1:
        nh, nw = size, int(size / ratio)
    else:
        nw, nh = size, int(size * ratio)
    det_scale = float(nh) / h
    det_img = np.zeros((size, size, 3), dtype=np.uint8)
    det_img[:nh, :nw] = cv2.resize(bgr, (nw, nh))
    blob = cv2.dnn.blobFromImage(det_img, 1.0 / 128, (size, size), (127.5, 127.5, 127.5), swapRB=True)
    with torch.no_grad():
        outs = [o.numpy() for o in model(torch.from_numpy(blob))]
    all_scores, all_boxes, all_kps = [], [], []
    for level, stride in enumerate(STRIDES):
        cells = size // stride
        centers = (np.stack(np.mgrid[:cells, :cells][::-1], axis=-1).astype(np.float32) * stride).reshape(-1, 2)
        centers = np.repeat(centers, 2, axis=0)
        scores = outs[level]
        boxes = outs[level + 3] * stride
        kps = outs[level + 6] * stride
        keep = np.where(scores >= 0.5)[0]
        x1y1 = centers - boxes[:, :2]
        x2y2 = centers + boxes[:, 2:]
        all_scores.append(scores[keep])
        all_boxes.append(np.concatenate([x1y1, x2y2], axis=1)[keep])
        all_kps.append((np.tile(centers, 5) + kps).reshape(-1, 5, 2)[keep])
    scores = np.vstack(all_scores).ravel()
    order = np.argsort(-scores, kind="stable")
    boxes = (np.vstack(all_boxes) / det_scale)[order]
    kps = (np.vstack(all_kps) / det_scale)[order]
    scores = scores[order]
    kept, alive = [], list(range(len(scores)))
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    while alive:
        i = alive[0]
        kept.append(i)
        rest = []
        for j in alive[1:]:
            iw = max(0.0, min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]) + 1)
            ih = max(0.0, min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]) + 1)
            inter = iw * ih
            if inter / (area[i] + area[j] - inter) <= 0.4:
                rest.append(j)
        alive = rest
    return np.hstack([boxes[kept], scores[kept, None]]).astype(np.float32), kps[kept].astype(np.float32)


def face_picture(height, width, cx, cy, radius):
    """Dark picture with a bright, smoothly peaked blob: the tiny detector's 'face'."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius ** 2))
    rgb = np.stack([20 + 230 * blob, 25 + 220 * blob, 30 + 200 * blob * (1 + 0.1 * np.sin(x / 5))], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def face_fixtures():
    det, arc = TinyScrfd().eval(), TinyArcFace().eval()
    torch.onnx.export(det, torch.zeros(1, 3, 64, 64), os.path.join(HERE, "scrfd_tiny.onnx"), input_names=["input.1"],
                      output_names=[f"{kind}_{s}" for kind in ("score", "bbox", "kps") for s in STRIDES],
                      dynamic_axes={"input.1": {2: "height", 3: "width"}}, opset_version=13)
    torch.onnx.export(arc, torch.zeros(1, 3, 112, 112), os.path.join(HERE, "arcface_tiny.onnx"), input_names=["input.1"],
                      output_names=["embedding"], dynamic_axes={"input.1": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13)
    rgb = face_picture(96, 128, cx=70, cy=44, radius=14)
    save("face_input", rgb)
    save("noface_input", np.full((64, 64, 3), 10, dtype=np.uint8))
    bgr = aux_uint8(rgb)[..., ::-1].copy()  # IPAdapter_plus tensor_to_image: truncating, BGR
    dets, kpss = scrfd_detect(det, bgr, 640)
    save("face_dets_640", dets)
    save("face_kps_640", kpss)
    kps = kpss[0]
    for size in (224, 256):
        save(f"face_norm_{size}", estimate_norm(kps, size))
    save("face_aligned_224", norm_crop(bgr, kps, 224)[..., ::-1])
    aligned112 = norm_crop(bgr, kps, 112)
    blob = cv2.dnn.blobFromImages([aligned112], 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
    with torch.no_grad():
        embedding = arc(torch.from_numpy(blob)).numpy()[0]
    save("face_embedding", embedding.astype(np.float32))
    save("face_normed_embedding", (embedding / np.linalg.norm(embedding)).astype(np.float32))


if __name__ == "__main__":
    resize_fixtures()
    depth_fixtures()
    face_fixtures()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(MANIFEST)} arrays to {HERE}")
