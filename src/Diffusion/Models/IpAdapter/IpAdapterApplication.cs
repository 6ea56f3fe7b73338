using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>cubiq's embeds_scaling: how the weight enters the decoupled attention.</summary>
public enum EmbedsScaling
{
    /// <summary>"V only": w · Attn(q, K, V).</summary>
    VOnly,

    /// <summary>"K+V": Attn(q, wK, wV).</summary>
    KV,

    /// <summary>"K+V w/ C penalty": w' = w·C/1280; Attn(q, w'K, w'V).</summary>
    KVPenalty,

    /// <summary>"K+mean(V) w/ C penalty": K' = w'K, V' = (V − mean V) + w'·mean V.</summary>
    KMeanVPenalty,
}

public static class EmbedsScalingNames
{
    public static readonly IReadOnlyList<string> Names = ["V only", "K+V", "K+V w/ C penalty", "K+mean(V) w/ C penalty"];

    public static EmbedsScaling Parse(string name) => Names.ToList().IndexOf(name) is int i and >= 0
        ? (EmbedsScaling)i
        : throw new ArgumentException($"unknown embeds_scaling '{name}' (expected one of: {string.Join(", ", Names)})");
}

/// <summary>
/// One IP-Adapter applied to a model (one apply node's work): the adapter, its projected tokens for cond rows and for
/// uncond rows [1, T, ctx], its weighting, σ window and mask. Immutable; owns its tensors and, through
/// <paramref name="owner"/>, a hold on the adapter's weights. <see cref="Share"/> gives another handle.
/// </summary>
/// <param name="owner">Keeps the adapter's weights alive (a cache lease), disposed with this; <paramref name="shareOwner"/>
/// makes another hold from it for <see cref="Share"/>.</param>
/// <param name="sigmaStart">Active while σ ≤ this (percent_to_sigma(start_at)).</param>
/// <param name="sigmaEnd">… and σ ≥ this (percent_to_sigma(end_at)).</param>
/// <param name="mask">attn_mask [M, H, W] (0..1), or null.</param>
/// <param name="compositionTokens">Tokens that replace the cond tokens at transformer index 3 (cubiq cond_alt, style and
/// composition with a separate composition image), or null.</param>
public sealed class IpAdapterApplication(IpAdapterModel adapter, Tensor cond, Tensor uncond, IpAdapterWeighting weighting,
    double sigmaStart, double sigmaEnd, EmbedsScaling scaling, Tensor? mask, IDisposable? owner, Func<IDisposable, IDisposable>? shareOwner,
    Tensor? compositionTokens = null) : IDisposable
{
    public IpAdapterModel Adapter { get; } = adapter;
    public Tensor Cond { get; } = cond;
    public Tensor Uncond { get; } = uncond;
    public IpAdapterWeighting Weighting { get; } = weighting;
    public double SigmaStart { get; } = sigmaStart;
    public double SigmaEnd { get; } = sigmaEnd;
    public EmbedsScaling Scaling { get; } = scaling;
    public Tensor? Mask { get; } = mask;
    public Tensor? CompositionTokens { get; } = compositionTokens;

    /// <summary>cubiq's window test on the batch's first σ.</summary>
    public bool ActiveAt(double sigma) => sigma <= SigmaStart && sigma >= SigmaEnd;

    /// <summary>Another handle, whose tensor handles belong to it (never to the caller's dispose scope).</summary>
    public IpAdapterApplication Share() => new(Adapter, Own(Cond)!, Own(Uncond)!, Weighting, SigmaStart, SigmaEnd, Scaling,
        Own(Mask), owner is null ? null : shareOwner?.Invoke(owner), shareOwner, Own(CompositionTokens));

    private static Tensor? Own(Tensor? t) => t?.Alias().DetachFromScope();

    public void Dispose()
    {
        Cond.Dispose();
        Uncond.Dispose();
        Mask?.Dispose();
        CompositionTokens?.Dispose();
        owner?.Dispose();
    }
}
