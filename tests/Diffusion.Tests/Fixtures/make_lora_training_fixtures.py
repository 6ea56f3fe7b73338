#!/usr/bin/env python3
"""Writes lora_training_step.safetensors: one LoRA training step on the tiny SD1.5 and SDXL fixture checkpoints, computed
by an independent plain-PyTorch implementation, for LoraTrainingReferenceTests.

Run with Debian's python3-torch (scripts/deps.sh bench):  /usr/bin/python3 make_lora_training_fixtures.py [out_dir]

The UNet is the reference forward of make_model_fixtures.py (read by key name from the published LDM architecture),
with the checkpoints rebuilt from the same seeds as make_model_fixtures.py / make_sdxl_fixtures.py. The LoRA is written
the way its math is usually stated rather than as a side branch: W' = W + (α/r)·up·down on every attention projection
(attn1/attn2 to_q, to_k, to_v, to_out.0), so autograd differentiates through the merged weight. One step, as kohya's
train_network.py: t = randint(0, 1000) then ε = randn from one generator seeded with the training seed; ᾱ from the
scaled-linear betas (0.00085 → 0.012, float64); x_t = √ᾱ·x₀ + √(1−ᾱ)·ε; loss = MSE(ε̂, ε); torch.optim.AdamW (lr 1e-3,
betas 0.9/0.999, eps 1e-8, weight decay 0.01). Stored: the sample, the initial LoRA (LDM module names), the loss and
the updated LoRA. A third step ("sd15te") also trains a LoRA on the text encoder (every q/k/v/out_proj, fc1 and fc2 of
the CLIP encoder layers, kohya's lora_te_ targets): the context is computed from the token ids through the merged CLIP
(last layer after final_layer_norm), and the text encoder's LoRA has its own AdamW at TE_LR.
"""
import os
import re
import sys

import torch
import torch.nn.functional as F

import make_model_fixtures as sd15
import make_sdxl_fixtures as sdxl

RANK, ALPHA, LR, TRAIN_SEED = 2, 1.0, 1e-3, 7
TE_LR = 5e-3
CLIP_PREFIX = "cond_stage_model.transformer."
TE_TARGET = re.compile(r"\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|mlp\.(fc1|fc2))\.weight$")
PREFIX = "model.diffusion_model."
TARGET = re.compile(r"\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.weight$")


def alphas_cumprod():
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0)


def lora_params(sd, merged, keys, gen, io, name, module_name):
    """Initial LoRA (down ~ N(0, 1/in), up ~ N(0, 0.01): non-zero, so every layer gets a gradient) merged into `merged`."""
    params = []
    for key in keys:
        module = module_name(key)
        out_f, in_f = sd[key].shape
        down = (torch.randn(RANK, in_f, generator=gen) / in_f ** 0.5).requires_grad_(True)
        up = (torch.randn(out_f, RANK, generator=gen) * 0.1).requires_grad_(True)
        io[f"{name}.init.{module}.lora_down.weight"] = down.detach().clone()
        io[f"{name}.init.{module}.lora_up.weight"] = up.detach().clone()
        merged[key] = sd[key] + (ALPHA / RANK) * (up @ down)
        params.append((module, down, up))
    return params


def te_step(name, sd, unet_cfg, clip_cfg, gen, io):
    x0 = torch.randn(1, 4, 8, 8, generator=gen)
    ids = torch.full((1, 77), clip_cfg["vocab_size"] - 1, dtype=torch.int64)  # end token pads, as the tokenizer does
    ids[0, 0] = clip_cfg["vocab_size"] - 2
    ids[0, 1:7] = torch.randint(0, clip_cfg["vocab_size"] - 2, (6,), generator=gen)
    io[f"{name}.x0"], io[f"{name}.ids"] = x0[0], ids[0]

    merged = dict(sd)
    unet = lora_params(sd, merged, sorted(k for k in sd if k.startswith(PREFIX) and TARGET.search(k)), gen, io, name,
                       lambda k: k[len(PREFIX):-len(".weight")])
    # Text-encoder modules are stored under kohya's names: lora_te_ + the HF path under the transformer, "." → "_".
    te = lora_params(sd, merged, sorted(k for k in sd if k.startswith(CLIP_PREFIX) and TE_TARGET.search(k)), gen, io, name,
                     lambda k: "te:lora_te_" + k[len(CLIP_PREFIX):-len(".weight")].replace(".", "_"))

    g = torch.Generator().manual_seed(TRAIN_SEED)
    t = torch.randint(0, 1000, (1,), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    ac = alphas_cumprod()[t].float().view(-1, 1, 1, 1)
    xt = ac.sqrt() * x0 + (1 - ac).sqrt() * noise
    ctx, _, _ = sd15.clip_forward(merged, clip_cfg, ids, -1)
    pred = sd15.unet_forward(merged, unet_cfg, xt, t.float(), ctx)
    loss = F.mse_loss(pred, noise)
    opts = [torch.optim.AdamW([p for _, d, u in group for p in (d, u)], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
            for group, lr in ((unet, LR), (te, TE_LR))]
    loss.backward()
    for opt in opts:
        opt.step()
    io[f"{name}.loss"] = loss.detach().reshape(1)
    for module, down, up in unet + te:
        io[f"{name}.trained.{module}.lora_down.weight"] = down.detach().clone()
        io[f"{name}.trained.{module}.lora_up.weight"] = up.detach().clone()
    print(f"{name}: t={t.item()} loss={loss.item():.6f}, {len(unet)} UNet and {len(te)} text-encoder layers")


def one_step(name, sd, unet_cfg, gen, io, adm=None):
    x0 = torch.randn(1, 4, 8, 8, generator=gen)
    ctx = torch.randn(1, 77, unet_cfg["context_dim"], generator=gen)
    y = torch.randn(1, adm, generator=gen) if adm else None
    io[f"{name}.x0"], io[f"{name}.context"] = x0[0], ctx[0]
    if y is not None:
        io[f"{name}.adm"] = y[0]

    params, merged = [], dict(sd)
    for key in sorted(k for k in sd if k.startswith(PREFIX) and TARGET.search(k)):
        module = key[len(PREFIX):-len(".weight")]
        out_f, in_f = sd[key].shape
        down = (torch.randn(RANK, in_f, generator=gen) / in_f ** 0.5).requires_grad_(True)
        up = (torch.randn(out_f, RANK, generator=gen) * 0.1).requires_grad_(True)
        io[f"{name}.init.{module}.lora_down.weight"] = down.detach().clone()
        io[f"{name}.init.{module}.lora_up.weight"] = up.detach().clone()
        merged[key] = sd[key] + (ALPHA / RANK) * (up @ down)
        params.append((module, down, up))

    g = torch.Generator().manual_seed(TRAIN_SEED)
    t = torch.randint(0, 1000, (1,), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    ac = alphas_cumprod()[t].float().view(-1, 1, 1, 1)
    xt = ac.sqrt() * x0 + (1 - ac).sqrt() * noise
    pred = sd15.unet_forward(merged, unet_cfg, xt, t.float(), ctx, y=y)
    loss = F.mse_loss(pred, noise)
    opt = torch.optim.AdamW([p for _, d, u in params for p in (d, u)], lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    loss.backward()
    opt.step()
    io[f"{name}.loss"] = loss.detach().reshape(1)
    io[f"{name}.timestep"] = t
    for module, down, up in params:
        io[f"{name}.trained.{module}.lora_down.weight"] = down.detach().clone()
        io[f"{name}.trained.{module}.lora_up.weight"] = up.detach().clone()
    print(f"{name}: t={t.item()} loss={loss.item():.6f}, {len(params)} adapted layers")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    io = {}

    gen = torch.Generator().manual_seed(20240611)  # make_model_fixtures.py: the UNet's weights are drawn first
    sd = sd15.random_weights(sd15.unet_spec(sd15.UNET), gen)
    one_step("sd15", sd, sd15.UNET, torch.Generator().manual_seed(101), io)
    sd.update(sd15.random_weights(sd15.clip_spec(sd15.CLIP), gen))  # the CLIP's weights come next in the same stream
    te_step("sd15te", sd, sd15.UNET, sd15.CLIP, torch.Generator().manual_seed(103), io)

    gen = torch.Generator().manual_seed(20261121)  # make_sdxl_fixtures.py
    sd = sd15.random_weights(sd15.unet_spec(sdxl.UNET), gen)
    one_step("sdxl", sd, sdxl.UNET, torch.Generator().manual_seed(102), io, adm=sdxl.ADM)

    sd15.write_safetensors(os.path.join(out, "lora_training_step.safetensors"), io, {"torch": torch.__version__})


if __name__ == "__main__":
    main()
