using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>
/// One ControlNet applied to a conditioning (ComfyUI's <c>control</c> object on a cond dict): the net, the hint image,
/// strength and the start/end window, chained to the ControlNet applied before it. Conditioning entries share it by
/// reference: entries holding the same chain are batched into one UNet call (can_concat_cond compares identity).
/// Reference-counted: every holder calls <see cref="Share"/> and disposes once; the hint, the net's owner and the
/// previous link go with the last reference.
/// </summary>
public sealed class ControlChain : IDisposable
{
    private readonly IDisposable? _netOwner;
    private int _references = 1;

    /// <param name="net">The loaded net (kept alive by <paramref name="netOwner"/>, disposed with the chain).</param>
    /// <param name="hint">The hint image [B, C, H, W] in 0..1 (IMAGE moved channels-first); the chain takes ownership.</param>
    /// <param name="previous">The chain applied before, shared by the caller for this link (null: none).</param>
    public ControlChain(LoadedControlNet net, IDisposable? netOwner, Tensor hint, double strength, double startPercent,
        double endPercent, ControlChain? previous)
    {
        if (hint.Dim != 4) throw new ArgumentException($"the hint must be [B, C, H, W], got {hint}");
        Net = net;
        _netOwner = netOwner;
        Hint = hint.DetachFromScope();
        Strength = strength;
        StartPercent = startPercent;
        EndPercent = endPercent;
        Previous = previous;
    }

    public LoadedControlNet Net { get; }
    public Tensor Hint { get; }
    public double Strength { get; }
    public double StartPercent { get; }
    public double EndPercent { get; }
    public ControlChain? Previous { get; }

    /// <summary>Another reference to this same chain (the identity is what batching compares).</summary>
    public ControlChain Share()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _references) <= 0, this);
        Interlocked.Increment(ref _references);
        return this;
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Hint.Dispose();
        _netOwner?.Dispose();
        Previous?.Dispose();
    }

    /// <summary>The links from the first applied to this one.</summary>
    public IEnumerable<ControlChain> Links()
    {
        if (Previous is not null) foreach (ControlChain link in Previous.Links()) yield return link;
        yield return this;
    }

    /// <summary>
    /// The summed residuals of the chain for one batched UNet call (ComfyUI ControlNet.get_control), or null when no link
    /// is active at this σ. A link runs only when σ of the batch's first row lies in [p2σ(end), p2σ(start)]; it sees the
    /// UNet's scaled input, timesteps, context and y, and its hint resized to 8× the latent (nearest-exact, centre crop)
    /// and broadcast over the batch; its residuals are multiplied by strength and added to those of the links before it.
    /// </summary>
    public ControlResiduals? Residuals(UnetBatch batch, IModelSampling modelSampling)
    {
        ControlResiduals? previous = Previous?.Residuals(batch, modelSampling);
        float sigma;
        using (Torch.NewScope()) sigma = batch.Sigmas.Narrow(0, 0, 1).To(Device.Cpu, DType.Float32).ToArray<float>()[0];
        // As ComfyUI: σ and both bounds compared in float32.
        if (sigma > (float)modelSampling.PercentToSigma(StartPercent) || sigma < (float)modelSampling.PercentToSigma(EndPercent))
            return previous;

        ControlNetModel model = Net.Model;
        Tensor x = batch.Input;
        Tensor hint = Resampling.CommonUpscale(Hint, x.Size(3) * 8, x.Size(2) * 8, "nearest-exact", "center").To(model.Device, model.DType);
        hint = BroadcastToBatch(hint, x.Size(0), batch.Entries.Count);
        var (skips, middle) = model.Forward(x, hint, batch.Timesteps, batch.Context, batch.Y);
        var outSkips = new Tensor?[skips.Length];
        for (int i = 0; i < skips.Length; i++) outSkips[i] = Scale(skips[i]);
        Tensor? outMiddle = Scale(middle);
        if (previous is null) return new ControlResiduals(outSkips, outMiddle);

        // control_merge: prev + this, index by index.
        int count = Math.Max(outSkips.Length, previous.Skips.Count);
        var merged = new Tensor?[count];
        for (int i = 0; i < count; i++)
        {
            Tensor? mine = i < outSkips.Length ? outSkips[i] : null, before = i < previous.Skips.Count ? previous.Skips[i] : null;
            merged[i] = mine is null ? before : before is null ? mine : before + mine;
        }
        Tensor? mergedMiddle = outMiddle is null ? previous.Middle : previous.Middle is null ? outMiddle : previous.Middle + outMiddle;
        return new ControlResiduals(merged, mergedMiddle);
    }

    private Tensor Scale(Tensor residual)
    {
        if (Net.GlobalAveragePooling)
            residual = residual.Mean([2, 3], keepDim: true).Expand(residual.Shape);
        return residual * Strength;
    }

    /// <summary>
    /// ComfyUI broadcast_image_to: a single hint is used as is; otherwise the first rows up to the per-chunk batch,
    /// repeated cyclically to fill it, then the whole repeated for each chunk (cond, uncond) of the call.
    /// </summary>
    internal static Tensor BroadcastToBatch(Tensor hint, long batch, int chunks)
    {
        long current = hint.Size(0);
        if (current == 1 || current == batch) return hint;
        long perChunk = batch / chunks;
        Tensor t = hint.Narrow(0, 0, Math.Min(perChunk, current));
        if (perChunk > t.Size(0))
        {
            long n = t.Size(0);
            var parts = Enumerable.Repeat(t, (int)(perChunk / n)).ToList();
            if (perChunk % n != 0) parts.Add(t.Narrow(0, 0, perChunk % n));
            t = Torch.Cat([.. parts]);
        }
        return t.Size(0) == batch ? t : Torch.Cat([.. Enumerable.Repeat(t, chunks)]);
    }
}
