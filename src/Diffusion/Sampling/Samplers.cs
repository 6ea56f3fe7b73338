namespace CharacterGen.Diffusion.Sampling;

/// <summary>A named sampler as the KSamplerSelect node hands it on (ComfyUI's SAMPLER).</summary>
/// <param name="RandomInpaintNoise">
/// ddim: the inpainting noise comes from its own CPU generator seeded with seed + 1 instead of the initial noise.
/// </param>
public sealed record Sampler(string Name, SamplerFunction Function, bool RandomInpaintNoise = false);

/// <summary>Sampler names and the registry from names to implementations (ComfyUI comfy/samplers.py).</summary>
public static partial class Samplers
{
    /// <summary>ComfyUI v0.8.0 KSAMPLER_NAMES, in order.</summary>
    public static IReadOnlyList<string> KSamplerNames { get; } =
    [
        "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "exp_heun_2_x0",
        "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral",
        "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde",
        "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm",
        "lcm", "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
        "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
        "seeds_3", "sa_solver", "sa_solver_pece",
    ];

    /// <summary>ComfyUI's SAMPLER_NAMES (KSAMPLER_NAMES + ddim, uni_pc, uni_pc_bh2): the COMBO options.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [.. KSamplerNames, "ddim", "uni_pc", "uni_pc_bh2"];

    /// <summary>Samplers whose KSampler schedule is computed for one more step with the second to last σ dropped.</summary>
    public static IReadOnlySet<string> DiscardPenultimateSigma { get; } =
        new HashSet<string> { "dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2" };

    // The _gpu variants differ in ComfyUI only in where the Brownian tree lives; ours is one statistically equivalent
    // path for both.
    private static readonly Dictionary<string, Sampler> s_registry = new Sampler[]
    {
        new("euler", Euler),
        new("euler_ancestral", EulerAncestral),
        new("heun", Heun),
        new("dpm_2", Dpm2),
        new("dpm_2_ancestral", Dpm2Ancestral),
        new("lms", Lms),
        new("dpmpp_2s_ancestral", DpmPP2SAncestral),
        new("dpmpp_sde", DpmPPSde),
        new("dpmpp_sde_gpu", DpmPPSde),
        new("dpmpp_2m", DpmPP2M),
        new("dpmpp_2m_sde", DpmPP2MSde),
        new("dpmpp_2m_sde_gpu", DpmPP2MSde),
        new("dpmpp_2m_sde_heun", DpmPP2MSdeHeun),
        new("dpmpp_2m_sde_heun_gpu", DpmPP2MSdeHeun),
        new("dpmpp_3m_sde", DpmPP3MSde),
        new("dpmpp_3m_sde_gpu", DpmPP3MSde),
        new("ddpm", Ddpm),
        new("lcm", Lcm),
        new("ddim", Euler, RandomInpaintNoise: true),
        new("uni_pc", UniPC),
        new("uni_pc_bh2", UniPCBh2),
    }.ToDictionary(s => s.Name);

    /// <summary>The implemented subset of <see cref="AllNames"/>, in ComfyUI's order (what node validation accepts).</summary>
    public static IReadOnlyList<string> ImplementedNames { get; } = AllNames.Where(s_registry.ContainsKey).ToArray();

    public static bool IsImplemented(string name) => s_registry.ContainsKey(name);

    /// <summary>The sampler for a name (ComfyUI sampler_object).</summary>
    public static Sampler Get(string name) =>
        s_registry.TryGetValue(name, out Sampler? sampler)
            ? sampler
            : throw new ArgumentException(
                AllNames.Contains(name) ? $"sampler '{name}' is not implemented" : $"unknown sampler '{name}'", nameof(name));
}
