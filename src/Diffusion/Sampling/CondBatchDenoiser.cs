using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// x̂₀ for several conditionings at once around an SD1.x/SD2.x/SDXL UNet (ComfyUI samplers.calc_cond_batch): every entry
/// of every conditioning becomes one run over its area of x; runs whose inputs have the same shape and whose token
/// counts can be padded to a common multiple (at most 4× the shorter, by repeating, as CONDCrossAttn.concat) share one
/// UNet call; each conditioning's result is the mult-weighted average of its runs (mult = strength, feathered over 8
/// latent cells at area edges inside the image). For SDXL each run also carries its ADM vector y (pooled ‖ size
/// embeddings; sizes default to the whole latent ×8, as ComfyUI encode_model_conds). A conditioning is a list of entries.
/// </summary>
/// <param name="unet">The UNet to call, asked once per <see cref="Denoise"/> (so a LoRA stack can be applied to the
/// shared weights right before the calls).</param>
/// <param name="modelSampling">The model's σ ↔ timestep and scaling (ε or v prediction).</param>
/// <param name="contributors">What adds ControlNet residuals or attention patches to each batched call, in order
/// (none: the plain UNet).</param>
public sealed class CondBatchDenoiser(Func<UnetModel> unet, IModelSampling modelSampling,
    IReadOnlyList<IUnetCallContributor>? contributors = null)
    : IConditionedDenoiser<IReadOnlyList<ConditioningEntry>>
{
    private const int MaxPaddingFactor = 4;
    private const int Fuzz = 8;

    /// <summary>UNet calls made so far (tests check that cond and uncond share one).</summary>
    public int NetworkCalls { get; private set; }

    public Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<IReadOnlyList<ConditioningEntry>> conditionings)
    {
        using var scope = Torch.NewScope();
        UnetModel network = unet();
        conditionings = ControlToUncond.Apply(conditionings);
        var sums = new Tensor[conditionings.Count];
        var counts = new Tensor[conditionings.Count];
        var pending = new List<Run>();
        for (int i = 0; i < conditionings.Count; i++)
        {
            sums[i] = Torch.ZerosLike(x);
            counts[i] = Torch.OnesLike(x) * 1e-37;
            foreach (ConditioningEntry entry in conditionings[i])
                if (Prepare(x, entry, i, network.Config.AdmInChannels is not null) is { } run) pending.Add(run);
        }

        while (pending.Count > 0)
        {
            Run first = pending[0];
            List<Run> batch = pending.Where(r => CanBatch(first, r)).ToList();
            pending.RemoveAll(batch.Contains);
            Tensor input = Torch.Cat(batch.Select(r => r.Input).ToArray());
            Tensor sigmas = Torch.Cat(batch.Select(_ => sigma).ToArray());
            Tensor context = PadAndJoin(batch.Select(r => r.Context).ToList());
            Tensor? y = first.Y is null ? null : Torch.Cat(batch.Select(r => r.Y!).ToArray());
            NetworkCalls++;
            Tensor output = modelSampling.ApplyModel(input, sigmas, (scaled, timestep) =>
                network.Forward(scaled, timestep, context, y, CallFor(batch, scaled, timestep, context, y, sigmas)).To(scaled.Device));
            Tensor[] chunks = output.Chunk(batch.Count);
            for (int k = 0; k < batch.Count; k++)
            {
                Run run = batch[k];
                Tensor sum = sums[run.Index], count = counts[run.Index];
                if (run.Area is { } a)
                {
                    sum = sum.Narrow(2, a.Y, a.Height).Narrow(3, a.X, a.Width);
                    count = count.Narrow(2, a.Y, a.Height).Narrow(3, a.X, a.Width);
                }
                sum.Add_(chunks[k] * run.Mult);
                count.Add_(run.Mult);
            }
        }

        var results = new Tensor[conditionings.Count];
        for (int i = 0; i < results.Length; i++) results[i] = (sums[i] / counts[i]).MoveToOuterScope();
        return results;
    }

    private UnetCall? CallFor(List<Run> batch, Tensor scaled, Tensor timestep, Tensor context, Tensor? y, Tensor sigmas)
    {
        if (contributors is not { Count: > 0 }) return null;
        var unetBatch = new UnetBatch(scaled, timestep, context, y, sigmas, batch.Select(r => r.Entry).ToList(),
            batch.Select(r => r.Index).ToList(), batch[0].Input.Size(0));
        var builder = new UnetCallBuilder();
        foreach (IUnetCallContributor contributor in contributors) contributor.Contribute(unetBatch, builder);
        return builder.Build(unetBatch);
    }

    /// <summary>One entry's input region, weight and context (ComfyUI get_area_and_mult); null for an empty area.</summary>
    private static Run? Prepare(Tensor x, ConditioningEntry entry, int index, bool adm)
    {
        long height = x.Size(2), width = x.Size(3);
        Tensor input = x;
        ConditioningArea? area = null;
        if (entry.Area is { } a)
        {
            // ComfyUI clamps the size to what is left of the latent after the offset.
            area = a with { Height = Math.Min(height - a.Y, a.Height), Width = Math.Min(width - a.X, a.Width) };
            if (area.Height <= 0 || area.Width <= 0) return null;
            input = x.Narrow(2, area.Y, area.Height).Narrow(3, area.X, area.Width);
        }
        Tensor mult = Torch.OnesLike(input) * entry.Strength;
        if (area is not null) Feather(mult, area, height, width);
        Tensor context = RepeatToBatch(entry.Cond.To(x.Device, x.DType), x.Size(0));
        Tensor? y = null;
        if (adm)
        {
            Tensor pooled = entry.Pooled ?? throw new InvalidOperationException("an SDXL conditioning needs a pooled output (encode it with an SDXL CLIP)");
            SdxlSizeConditioning size = entry.Size ?? SdxlSizeConditioning.ForLatent(width, height);
            y = RepeatToBatch(size.AdmVector(pooled.To(x.Device, DType.Float32)), x.Size(0)).To(x.DType);
        }
        return new Run(index, entry, input, mult, area, context, y);
    }

    // Linear ramps over min(8, size/4) cells at each area edge that is not the latent's border.
    private static void Feather(Tensor mult, ConditioningArea area, long height, long width)
    {
        (int Dim, long Offset, long Size, long Full)[] axes = [(2, area.Y, area.Height, height), (3, area.X, area.Width, width)];
        foreach (var (dim, offset, size, full) in axes)
        {
            long ramp = Math.Min(Fuzz, mult.Size(dim) / 4);
            for (long t = 0; t < ramp; t++)
            {
                double factor = 1.0 / ramp * (t + 1);
                if (offset != 0) mult.Narrow(dim, t, 1).Mul_(factor);
                if (offset + size < full) mult.Narrow(dim, size - 1 - t, 1).Mul_(factor);
            }
        }
    }

    private static Tensor RepeatToBatch(Tensor cond, long batch)
    {
        long n = cond.Size(0);
        if (n > batch) return cond.Narrow(0, 0, batch);
        if (n < batch)
        {
            long[] times = new long[cond.Dim];
            Array.Fill(times, 1L);
            times[0] = (batch + n - 1) / n;
            return cond.Repeat(times).Narrow(0, 0, batch);
        }
        return cond;
    }

    // ComfyUI can_concat_cond + CONDCrossAttn.can_concat.
    private static bool CanBatch(Run a, Run b)
    {
        if (!a.Input.Shape.AsSpan().SequenceEqual(b.Input.Shape)) return false;
        if (!ReferenceEquals(a.Entry.Control, b.Entry.Control)) return false;
        long ta = a.Context.Size(1), tb = b.Context.Size(1);
        if (a.Context.Size(0) != b.Context.Size(0) || a.Context.Size(2) != b.Context.Size(2)) return false;
        return ta == tb || Lcm(ta, tb) / Math.Min(ta, tb) <= MaxPaddingFactor;
    }

    // CONDCrossAttn.concat: repeat each context along the tokens up to the least common multiple (attention over
    // repeated keys and values gives the same result).
    private static Tensor PadAndJoin(List<Tensor> contexts)
    {
        long length = contexts.Aggregate(contexts[0].Size(1), (l, c) => Lcm(l, c.Size(1)));
        return Torch.Cat(contexts.Select(c => c.Size(1) < length ? c.Repeat(1, length / c.Size(1), 1) : c).ToArray());
    }

    private static long Lcm(long a, long b) => a / Gcd(a, b) * b;

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    private sealed record Run(int Index, ConditioningEntry Entry, Tensor Input, Tensor Mult, ConditioningArea? Area, Tensor Context, Tensor? Y = null);
}
