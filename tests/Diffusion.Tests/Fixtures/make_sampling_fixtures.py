#!/usr/bin/env python3
"""Writes sampling.safetensors: reference values for tests/Diffusion.Tests/Sampling.

Run with Debian's python3-torch 1.13 (same libtorch as the shim) and nothing else:
    /usr/bin/python3 make_sampling_fixtures.py [out.safetensors]

Everything here is an independent re-derivation from the published formulas (k-diffusion / ComfyUI behaviour as
described in shared/reference/comfyui.md §4-5, DPM-Solver++, UniPC papers), written for these tests:
- the SD1.x discrete schedule, each scheduler's sigmas, the KSampler denoise / step-window rules;
- the Beta(a, b) quantile by bisection on a numerically integrated regularized incomplete beta (no scipy);
- every sampler run in float64 on an analytic Gaussian toy denoiser, ancestral/SDE noise drawn from
  torch.Generator().manual_seed(seed + 1) as the C# AncestralNoiseSampler does;
- torch CPU randn for the noise tests.
"""
import json
import math
import struct
import sys

import torch

out = {}
meta = {}


def put(name, t, dtype=torch.float32):
    out[name] = torch.as_tensor(t, dtype=dtype).contiguous()


# ---------------------------------------------------------------------------------------------------------------
# SD1.x discrete model sampling: betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2 in float64
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
sigmas64 = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
TABLE = sigmas64.float()
LOG_TABLE = sigmas64.log().float()
put("model.sigmas", TABLE)
put("model.log_sigmas", LOG_TABLE)

# zero terminal SNR variant (Lin et al. 2023): rescale sqrt(alpha_bar) so the last one is 0 (then a tiny floor)
ab_sqrt = (1.0 / (sigmas64 ** 2 + 1)).sqrt()
first, last = ab_sqrt[0].item(), ab_sqrt[-1].item()
ab = ((ab_sqrt - last) * (first / (first - last))) ** 2
ab[-1] = 4.8973451890853435e-08
put("model.zsnr_sigmas", ((1 - ab) / ab).sqrt())

SIGMA_MIN, SIGMA_MAX = float(TABLE[0]), float(TABLE[-1])


def timestep(sigma):
    d = (torch.tensor(sigma, dtype=torch.float32).log() - LOG_TABLE).abs()
    return int(torch.argmin(d))


def sigma_at(t):
    t = torch.tensor(float(t), dtype=torch.float32).clamp(0, 999)
    lo, hi = int(t.floor()), int(t.ceil())
    w = t - t.floor()
    return float(((1 - w) * LOG_TABLE[lo] + w * LOG_TABLE[hi]).exp())


put("model.timesteps_probe", [timestep(s) for s in (SIGMA_MAX, SIGMA_MIN, 1.0, 3.0, 0.5)], torch.int64)
put("model.sigma_probe", [sigma_at(t) for t in (0, 999, 500.25, 123.5, 998.9)])
put("model.percent_probe", [sigma_at((1 - p) * 999.0) for p in (0.1, 0.5, 0.9)])


# ---------------------------------------------------------------------------------------------------------------
# Beta distribution quantile without scipy
def reg_inc_beta(x, a, b, n=20000):
    """I_x(a, b) by Simpson's rule after substituting u = t^a, which removes the t^(a-1) singularity at 0."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > 0.5:
        return 1.0 - reg_inc_beta(1.0 - x, b, a, n)
    if a >= 1:  # smooth integrand: integrate t^(a-1) (1-t)^(b-1) directly
        upper, scale = x, 1.0
        f = lambda t: t ** (a - 1.0) * (1.0 - t) ** (b - 1.0)
    else:
        upper, scale = x ** a, 1.0 / a
        f = lambda u: (1.0 - u ** (1.0 / a)) ** (b - 1.0)
    h = upper / n
    s = f(0.0) + f(upper)
    for k in range(1, n):
        s += (4 if k % 2 else 2) * f(k * h)
    integral = s * h / 3.0 * scale
    log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return integral / math.exp(log_b)


def beta_ppf(p, a, b):
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    if a == b and p == 0.5:
        return 0.5  # the exact median of a symmetric Beta (scipy/Boost return the inflection point exactly)
    lo, hi = 0.0, 1.0
    for _ in range(70):
        mid = 0.5 * (lo + hi)
        if reg_inc_beta(mid, a, b) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


BETA_PS = [0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99]
for a, b in [(0.6, 0.6), (2.0, 5.0), (0.5, 0.5)]:
    key = f"beta.ppf.a{a}_b{b}"
    put(key, [beta_ppf(p, a, b) for p in BETA_PS], torch.float64)
    put(f"beta.cdf.a{a}_b{b}", [reg_inc_beta(x, a, b) for x in (0.01, 0.2, 0.5, 0.8, 0.99)], torch.float64)
put("beta.ps", BETA_PS, torch.float64)


# ---------------------------------------------------------------------------------------------------------------
# Schedulers (float32 like ComfyUI's FloatTensor results)
def f32_linspace(a, b, n):
    return torch.linspace(a, b, n, dtype=torch.float32)


def sched_simple(n):
    stride = 1000 / n
    return [float(TABLE[999 - int(i * stride)]) for i in range(n)] + [0.0]


def sched_ddim_uniform(n):
    c = max(1000 // n, 1)
    vals = [float(TABLE[i]) for i in range(1, 1000, c)]
    return vals[::-1] + [0.0]


def sched_normal(n, sgm=False):
    t0, t1 = timestep(SIGMA_MAX), timestep(SIGMA_MIN)
    ts = f32_linspace(t0, t1, n + 1)[:-1] if sgm else f32_linspace(t0, t1, n)
    return [sigma_at(float(t)) for t in ts] + [0.0]


def sched_karras(n, rho=7.0):
    ramp = f32_linspace(0, 1, n)
    lo, hi = SIGMA_MIN ** (1 / rho), SIGMA_MAX ** (1 / rho)
    return ((hi + ramp * (lo - hi)) ** rho).tolist() + [0.0]


def sched_exponential(n):
    return f32_linspace(math.log(SIGMA_MAX), math.log(SIGMA_MIN), n).exp().tolist() + [0.0]


def sched_beta(n, a=0.6, b=0.6):
    res, prev = [], None
    for i in range(n):
        t = round(beta_ppf(1.0 - i / n, a, b) * 999)  # Python round = half to even, like numpy.rint
        if t != prev:
            res.append(float(TABLE[t]))
        prev = t
    return res + [0.0]


def sched_linear_quadratic(n, threshold=0.025):
    if n == 1:
        s = [1.0, 0.0]
    else:
        lin = n // 2
        s = [i * threshold / lin for i in range(lin)]
        diff = lin - threshold * n
        q = n - lin
        qc = diff / (lin * q ** 2)
        lc = threshold / lin - 2 * diff / q ** 2
        const = qc * lin ** 2
        s += [qc * i * i + lc * i + const for i in range(lin, n)] + [1.0]
        s = [1.0 - v for v in s]
    return (torch.tensor(s, dtype=torch.float32) * TABLE[-1]).tolist()


def sched_kl_optimal(n):
    idx = torch.arange(n, dtype=torch.float32) / (n - 1)
    vals = (idx * math.atan(SIGMA_MIN) + (1 - idx) * math.atan(SIGMA_MAX)).tan()
    return vals.tolist() + [0.0]


SCHEDULERS = {
    "simple": sched_simple, "sgm_uniform": lambda n: sched_normal(n, True), "karras": sched_karras,
    "exponential": sched_exponential, "ddim_uniform": sched_ddim_uniform, "beta": sched_beta, "normal": sched_normal,
    "linear_quadratic": sched_linear_quadratic, "kl_optimal": sched_kl_optimal,
}
for name, fn in SCHEDULERS.items():
    for n in (10, 20, 3):
        put(f"sched.{name}.{n}", fn(n))

DISCARD = {"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"}


def ksampler_sigmas(scheduler, sampler, steps, denoise=1.0):
    def calc(n):
        if sampler in DISCARD:
            s = SCHEDULERS[scheduler](n + 1)
            return s[:-2] + s[-1:]
        return SCHEDULERS[scheduler](n)
    if denoise > 0.9999:
        return calc(steps)
    if denoise <= 0:
        return []
    return calc(int(steps / denoise))[-(steps + 1):]


def window(s, start, end, force_full):
    s = list(s)
    if end is not None and end < len(s) - 1:
        s = s[:end + 1]
        if force_full:
            s[-1] = 0.0
    if start is not None:
        if start < len(s) - 1:
            s = s[start:]
        else:
            return None
    return s


put("ksampler.karras_euler_20_d0.6", ksampler_sigmas("karras", "euler", 20, 0.6))
put("ksampler.normal_euler_20_d0.6", ksampler_sigmas("normal", "euler", 20, 0.6))
put("ksampler.simple_dpm_2_10", ksampler_sigmas("simple", "dpm_2", 10))
put("ksampler.karras_uni_pc_10_d0.5", ksampler_sigmas("karras", "uni_pc", 10, 0.5))
put("ksampler.basic_karras_20_d0.6", SCHEDULERS["karras"](int(20 / 0.6))[-21:])
full = ksampler_sigmas("karras", "euler", 20)
put("advanced.karras_20_s5_e12_full", window(full, 5, 12, True))
put("advanced.karras_20_s5_e12_leftover", window(full, 5, 12, False))
put("advanced.karras_20_s0_e10_leftover", window(full, 0, 10, False))
put("advanced.karras_20_s10_eNone", window(full, 10, 10000, True))

# ---------------------------------------------------------------------------------------------------------------
# Samplers on an analytic toy denoiser: each element x0 ~ N(mu, S^2), so E[x0 | x] = (x S^2 + mu sigma^2)/(S^2 + sigma^2)
SEED = 1234
S = 0.8
g = torch.Generator().manual_seed(99)
MU = (torch.randn(2, 3, 4, 4, generator=g) * 0.5 + 0.3).double()
NOISE = torch.randn(2, 3, 4, 4, generator=g).double()
SIGMAS = torch.tensor(sched_karras(10), dtype=torch.float32)
SIG = [float(v) for v in SIGMAS]
X_INIT = NOISE * math.sqrt(1.0 + SIG[0] ** 2)  # EPS noise scaling at sigma_max of a zero latent
put("toy.mu", MU, torch.float64)
put("toy.x_init", X_INIT, torch.float64)
put("toy.sigmas", SIGMAS)
meta["toy.s"] = str(S)
meta["toy.seed"] = str(SEED)


def D(x, sigma):
    return (x * S * S + MU * sigma * sigma) / (S * S + sigma * sigma)


def noise_source():
    gen = torch.Generator().manual_seed(SEED + 1)
    return lambda: torch.randn(MU.shape, generator=gen, dtype=torch.float64)


def anc(s_from, s_to):
    up = min(s_to, math.sqrt(s_to ** 2 * (s_from ** 2 - s_to ** 2) / s_from ** 2))
    return math.sqrt(s_to ** 2 - up ** 2), up


def run_euler(x):
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        x = x + (x - D(x, s)) / s * (n - s)
    return x


def run_heun(x):
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        slope = (x - D(x, s)) / s
        if n == 0:
            x = x + slope * (n - s)
        else:
            guess = x + slope * (n - s)
            slope2 = (guess - D(guess, n)) / n
            x = x + 0.5 * (slope + slope2) * (n - s)
    return x


def run_dpm2(x):
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        slope = (x - D(x, s)) / s
        if n == 0:
            x = x + slope * (n - s)
        else:
            m = math.sqrt(s * n)  # geometric midpoint
            half = x + slope * (m - s)
            x = x + (half - D(half, m)) / m * (n - s)
    return x


def run_euler_ancestral(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        down, up = anc(s, n)
        if down == 0:
            x = den
        else:
            x = x + (x - den) / s * (down - s) + rnd() * up
    return x


def run_dpm2_ancestral(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        down, up = anc(s, n)
        slope = (x - den) / s
        if down == 0:
            x = x + slope * (down - s)
        else:
            m = math.sqrt(s * down)
            half = x + slope * (m - s)
            x = x + (half - D(half, m)) / m * (down - s)
            x = x + rnd() * up
    return x


def run_lms(x, order=4):
    slopes = []
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        slopes.append((x - den) / s)
        slopes = slopes[-order:]
        if n == 0:
            x = den
            continue
        k = min(i + 1, order)
        nodes = [SIG[i - j] for j in range(k)]
        for j in range(k):
            # integrate the Lagrange basis polynomial of nodes[j] exactly: expand its coefficients, then antiderivative
            coeffs = [1.0]
            denom = 1.0
            for m in range(k):
                if m == j:
                    continue
                coeffs = [0.0] + coeffs
                for q in range(len(coeffs) - 1):
                    coeffs[q] -= nodes[m] * coeffs[q + 1]
                denom *= nodes[j] - nodes[m]
            integral = sum(c / (p + 1) * (n ** (p + 1) - s ** (p + 1)) for p, c in enumerate(coeffs)) / denom
            x = x + integral * slopes[-1 - j]
    return x


def run_dpmpp_2m(x):
    prev = None
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        h = math.log(s) - (math.log(n) if n > 0 else -math.inf)
        target = den
        if prev is not None and n > 0:
            r = (math.log(SIG[i - 1]) - math.log(s)) / h
            target = (1 + 1 / (2 * r)) * den - prev / (2 * r)
        x = (n / s) * x + (1 - math.exp(-h)) * target
        prev = den
    return x


def run_dpmpp_2s_ancestral(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        down, up = anc(s, n)
        if down == 0:
            x = x + (x - den) / s * (down - s)
        else:
            mid = math.sqrt(s * down)
            u = (mid / s) * x + (1 - mid / s) * den
            x = (down / s) * x + (1 - down / s) * D(u, mid)
        if n > 0:
            x = x + rnd() * up
    return x


def run_dpmpp_sde(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        if n == 0:
            x = den
            continue
        mid = math.sqrt(s * n)
        # step 1: ancestral DPM-Solver++ 1st order to the geometric midpoint
        down, up = anc(s, mid)
        x2 = (down / s) * x + (1 - down / s) * den + rnd() * up
        den2 = D(x2, mid)
        down, up = anc(s, n)
        target = 0.0 * den + 1.0 * den2  # r = 1/2: (1 - 1/(2r)) den + 1/(2r) den2
        x = (down / s) * x + (1 - down / s) * target + rnd() * up
    return x


def run_dpmpp_2m_sde(x, variant):
    rnd = noise_source()
    prev, h_prev = None, None
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        if n == 0:
            x = den
        else:
            h = math.log(s / n)
            e = math.exp(-2 * h)
            x = (n / s) * math.exp(-h) * x + (1 - e) * den
            if prev is not None:
                r = h_prev / h
                if variant == "midpoint":
                    x = x + 0.5 * (1 - e) / r * (den - prev)
                else:
                    x = x + (1 - (1 - e) / (2 * h)) / r * (den - prev)
            x = x + rnd() * n * math.sqrt(1 - e)
            h_prev = h
        prev = den
    return x


def run_dpmpp_3m_sde(x):
    rnd = noise_source()
    d1_, d2_, h1, h2 = None, None, None, None
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        den = D(x, s)
        h = None
        if n == 0:
            x = den
        else:
            h = math.log(s / n)
            he = 2 * h
            x = (n / s) * math.exp(-h) * x + (1 - math.exp(-he)) * den
            phi2 = (math.exp(-he) - 1) / he + 1
            if h2 is not None:
                r0, r1 = h1 / h, h2 / h
                a = (den - d1_) / r0
                b = (d1_ - d2_) / r1
                x = x + phi2 * (a + (a - b) * r0 / (r0 + r1)) - (phi2 / he - 0.5) * (a - b) / (r0 + r1)
            elif h1 is not None:
                x = x + phi2 * (den - d1_) / (h1 / h)
            x = x + rnd() * n * math.sqrt(1 - math.exp(-2 * h))
        d1_, d2_ = den, d1_
        h1, h2 = h, h1
    return x


def run_lcm(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        x = D(x, s)
        if n > 0:
            x = x + rnd() * n
    return x


def run_ddpm(x):
    rnd = noise_source()
    for i in range(len(SIG) - 1):
        s, n = SIG[i], SIG[i + 1]
        eps = (x - D(x, s)) / s
        abar, abar_prev = 1 / (1 + s * s), 1 / (1 + n * n)
        alpha = abar / abar_prev
        xv = x / math.sqrt(1 + s * s)
        mu = (xv - (1 - alpha) / math.sqrt(1 - abar) * eps) / math.sqrt(alpha)
        if n > 0:
            mu = mu + math.sqrt((1 - alpha) * (1 - abar_prev) / (1 - abar)) * rnd()
            mu = mu * math.sqrt(1 + n * n)
        x = mu
    return x


def run_unipc(x_k, variant):
    """UniPC-bh (Zhao et al. 2023, algorithm with B(h)) in variance-preserving scaling, data prediction, multistep,
    order min(3, steps - 1) lowered at the end, the final sigma 0 replaced by 0.001; x returned as x_vp / alpha."""
    ts = list(SIG)
    if ts[-1] == 0:
        ts[-1] = float(torch.tensor(0.001, dtype=torch.float32))
    steps = len(ts) - 1
    order = min(3, steps - 1)
    alpha = lambda sg: 1 / math.sqrt(1 + sg * sg)
    std = lambda sg: sg / math.sqrt(1 + sg * sg)
    lam = lambda sg: math.log(alpha(sg) / std(sg))

    def data_pred(xv, sg):  # the eps model seen by UniPC, converted to x0
        xk = xv / alpha(sg)
        eps = (xk - D(xk, sg)) / sg
        return (xv - std(sg) * eps) / alpha(sg)

    def update(xv, ms, tl, t, k, corrector):
        h = lam(t) - lam(tl[-1])
        rks = [(lam(tl[-(i + 1)]) - lam(tl[-1])) / h for i in range(1, k)] + [1.0]
        d1 = [(ms[-(i + 1)] - ms[-1]) / rks[i - 1] for i in range(1, k)]
        hh = -h
        bh = hh if variant == "bh1" else math.expm1(hh)
        R = torch.tensor([[r ** (i - 1) for r in rks] for i in range(1, k + 1)], dtype=torch.float64)
        bvec, phi, fact = [], math.expm1(hh) / hh - 1, 1
        for i in range(1, k + 1):
            bvec.append(phi * fact / bh)
            fact *= i + 1
            phi = phi / hh - 1 / fact
        bvec = torch.tensor(bvec, dtype=torch.float64)
        base = std(t) / std(tl[-1]) * xv - alpha(t) * math.expm1(hh) * ms[-1]
        pred = base
        if d1:
            rp = [0.5] if k == 2 else torch.linalg.solve(R[:-1, :-1], bvec[:-1]).tolist()
            pred = base - alpha(t) * bh * sum(c * d for c, d in zip(rp, d1))
        if not corrector:
            return pred, None
        rc = [0.5] if k == 1 else torch.linalg.solve(R, bvec).tolist()
        mt = data_pred(pred, t)
        corr = sum((c * d for c, d in zip(rc[:-1], d1)), torch.zeros_like(xv))
        return base - alpha(t) * bh * (corr + rc[-1] * (mt - ms[-1])), mt

    xv = x_k / math.sqrt(1 + ts[0] ** 2)
    ms, tl = [data_pred(xv, ts[0])], [ts[0]]
    for step in range(1, steps + 1):
        k = min(step, order) if step < order else min(order, steps + 1 - step)
        xv, mt = update(xv, ms, tl, ts[step], k, corrector=step != steps)
        if step < steps:
            ms, tl = (ms + [mt])[-order:], (tl + [ts[step]])[-order:]
    return xv / alpha(ts[-1])


RUNS = {
    "euler": run_euler, "heun": run_heun, "dpm_2": run_dpm2, "lms": run_lms, "dpmpp_2m": run_dpmpp_2m,
    "euler_ancestral": run_euler_ancestral, "dpm_2_ancestral": run_dpm2_ancestral,
    "dpmpp_2s_ancestral": run_dpmpp_2s_ancestral, "lcm": run_lcm, "ddpm": run_ddpm,
    "dpmpp_sde": run_dpmpp_sde, "dpmpp_2m_sde": lambda x: run_dpmpp_2m_sde(x, "midpoint"),
    "dpmpp_2m_sde_heun": lambda x: run_dpmpp_2m_sde(x, "heun"), "dpmpp_3m_sde": run_dpmpp_3m_sde,
    "uni_pc": lambda x: run_unipc(x, "bh1"), "uni_pc_bh2": lambda x: run_unipc(x, "bh2"),
}
for name, fn in RUNS.items():
    put(f"toy.out.{name}", fn(X_INIT.clone()), torch.float64)

# ---------------------------------------------------------------------------------------------------------------
# Whole KSampler runs in float32, as ComfyUI does them: noise from torch.manual_seed(seed), max-denoise noise scaling,
# CFG over a toy conditioned model (x0 ~ N(mu_cond, 1): D = (x + mu sigma^2) / (1 + sigma^2)), the inpainting wrapper,
# SD1 latent scaling 0.18215 (skipped in for an all-zero latent), ancestral noise from a seed + 1 CPU generator.
def cfg_model(pos, neg, cfg):
    def d(x, s):
        c = (x + pos * s * s) / (1 + s * s)
        if cfg == 1.0:
            return c
        u = (x + neg * s * s) / (1 + s * s)
        return u + (c - u) * cfg
    return d


def pipeline(latent, seed, sigmas, sampler, model, mask=None, scale=0.18215):
    torch.manual_seed(seed)
    noise = torch.randn(latent.shape)
    lat = latent * scale if bool((latent != 0).any()) else latent
    s0 = sigmas[0]
    max_denoise = math.isclose(SIGMA_MAX, s0, rel_tol=1e-5) or s0 > SIGMA_MAX
    x = lat + noise * (math.sqrt(1 + s0 * s0) if max_denoise else s0)
    den = model
    if mask is not None:
        m = torch.nn.functional.interpolate(mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1]), size=latent.shape[2:],
                                            mode="bilinear").repeat(1, latent.shape[1], 1, 1)
        den = lambda xx, s: model(xx * m + (lat + noise * s) * (1 - m), s) * m + lat * (1 - m)
    gen = torch.Generator().manual_seed(seed + 1)
    old = None
    for i in range(len(sigmas) - 1):
        s, n = sigmas[i], sigmas[i + 1]
        d = den(x, s)
        if sampler == "euler_ancestral":
            down, up = anc(s, n)
            x = d if down == 0 else x + (x - d) / s * (down - s) + torch.randn(x.shape, generator=gen) * up
        elif sampler == "dpmpp_2m":
            h = math.log(s) - (math.log(n) if n > 0 else -math.inf)
            t = d
            if old is not None and n > 0:
                r = (math.log(sigmas[i - 1]) - math.log(s)) / h
                t = (1 + 1 / (2 * r)) * d - old / (2 * r)
            x = (n / s) * x + (1 - math.exp(-h)) * t
            old = d
    return x / scale


txt_sigmas = [float(v) for v in torch.tensor(sched_karras(10), dtype=torch.float32)]
put("pipeline.txt2img", pipeline(torch.zeros(1, 4, 8, 8), 42, txt_sigmas, "euler_ancestral", cfg_model(0.5, -0.5, 5.0)))
torch.manual_seed(555)
img_latent = torch.randn(1, 4, 8, 8) * 3
img_mask = torch.cat([torch.ones(1, 64, 32), torch.zeros(1, 64, 32)], dim=2)
img_sigmas = [float(v) for v in torch.tensor(ksampler_sigmas("normal", "dpmpp_2m", 10, 0.6), dtype=torch.float32)]
put("pipeline.inpaint.latent", img_latent)
put("pipeline.inpaint", pipeline(img_latent, 8, img_sigmas, "dpmpp_2m", cfg_model(1.0, 0.0, 3.0), img_mask))

# ---------------------------------------------------------------------------------------------------------------
# Initial noise: torch.manual_seed(seed); torch.randn(shape)
for seed, shape in [(0, (3,)), (0, (16,)), (42, (1, 4, 64, 64)), (2 ** 32 + 5, (2, 4, 8, 8))]:
    torch.manual_seed(seed)
    put(f"noise.seed{seed}_{'x'.join(map(str, shape))}", torch.randn(*shape))
gen = torch.manual_seed(7)
draws = [torch.randn(1, 4, 8, 8, generator=gen) for _ in range(3)]
put("noise.seed7_batch_index_2_0_2", torch.cat([draws[2], draws[0], draws[2]]))


DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = t.numpy().tobytes()
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


meta.update({"generator": "make_sampling_fixtures.py", "torch": torch.__version__})
write_safetensors(sys.argv[1] if len(sys.argv) > 1 else "sampling.safetensors", out, meta)
print(f"{len(out)} tensors")
