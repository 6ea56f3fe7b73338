using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// Hands a model's IP-Adapters to every batched UNet call (the contributor the denoiser asks): one attn2 patch per call
/// that knows the call's first σ, latent size and chunk size.
/// </summary>
public sealed class IpAdapterContributor(IReadOnlyList<IpAdapterApplication> adapters, IpAdapterLayout layout) : IUnetCallContributor
{
    public void Contribute(UnetBatch batch, UnetCallBuilder call)
    {
        if (adapters.Count == 0) return;
        using var scope = Torch.NewScope();
        double sigma = batch.Sigmas.Narrow(0, 0, 1).To(Device.Cpu, DType.Float64).ToArray<double>()[0];
        var active = adapters.Where(a => a.ActiveAt(sigma)).ToList();
        if (active.Count == 0) return;
        call.AddCrossAttentionPatch(new IpAdapterPatch(active, layout, batch.Input.Size(2), batch.Input.Size(3), batch.ChunkRows));
    }
}

/// <summary>
/// The decoupled cross-attention of every adapter active at this call (cubiq Attn2Replace + ipadapter_attention):
/// out += Σᵢ wᵢ-scaled Attn(q, to_k_ip(tokensᵢ), to_v_ip(tokensᵢ)), cond rows with the image tokens and uncond rows
/// with the negative tokens, each masked by its attn_mask. The middle block is left alone, as in ComfyUI (cubiq
/// registers it under a key ComfyUI never looks up).
/// </summary>
public sealed class IpAdapterPatch(IReadOnlyList<IpAdapterApplication> adapters, IpAdapterLayout layout, long latentHeight,
    long latentWidth, long chunkRows) : ICrossAttentionPatch
{
    public Tensor Apply(Tensor output, Tensor q, int heads, AttentionSite site, UnetCall call)
    {
        if (site.Stage == UnetStage.Middle) return output;
        IpAdapterSite s = layout[site];
        Tensor result = output;
        foreach (IpAdapterApplication a in adapters)
        {
            if (a.Weighting.At(s.TransformerIndex, layout.Layers, site.Stage, out bool swap) is not double w || w == 0) continue;
            Tensor c = Contribution(a, s, q, heads, w, swap, call);
            result = result + c;
        }
        return result;
    }

    private Tensor Contribution(IpAdapterApplication a, IpAdapterSite s, Tensor q, int heads, double w, bool swap, UnetCall call)
    {
        Tensor cond = a.Cond, uncond = a.Uncond;
        if (swap)
        {
            uncond = cond;
            cond = Torch.ZerosLike(cond);
        }
        if (a.CompositionTokens is { } alt && s.TransformerIndex == 3) cond = alt;
        IpLayer layer = a.Adapter.Layer(s.LayerIndex);
        Tensor Rows(Tensor tokens) => tokens.To(q.Device, layer.ToK.Weight.Value.DType);
        Tensor kc = layer.ToK.Forward(Rows(cond)), ku = layer.ToK.Forward(Rows(uncond));
        Tensor vc = layer.ToV.Forward(Rows(cond)), vu = layer.ToV.Forward(Rows(uncond));
        Tensor k = PerRow(kc, ku, call.ConditioningIndex).To(q.DType), v = PerRow(vc, vu, call.ConditioningIndex).To(q.DType);

        Tensor o;
        double penalty = k.Size(2) / 1280.0;
        switch (a.Scaling)
        {
            case EmbedsScaling.KMeanVPenalty:
            {
                double wp = w * penalty;
                Tensor mean = v.Mean([1], keepDim: true);
                o = Attention(q, k * wp, v - mean + mean * wp, heads);
                break;
            }
            case EmbedsScaling.KVPenalty:
                o = Attention(q, k * (w * penalty), v * (w * penalty), heads);
                break;
            case EmbedsScaling.KV:
                o = Attention(q, k * w, v * w, heads);
                break;
            default:
                o = Attention(q, k, v, heads) * w;
                break;
        }
        if (a.Mask is { } mask) o = o * MaskFor(mask, q.Size(1), q.Size(0)).To(o.Device, o.DType);
        return o;
    }

    // cubiq: cond_or_uncond index 1 takes the uncond tokens, every other the cond tokens.
    private static Tensor PerRow(Tensor cond, Tensor uncond, IReadOnlyList<int> rows)
    {
        bool allCond = rows.All(r => r != 1), allUncond = rows.All(r => r == 1);
        if (allCond || allUncond)
        {
            Tensor t = allCond ? cond : uncond;
            return t.Expand(rows.Count, t.Size(1), t.Size(2));
        }
        return Torch.Cat(rows.Select(r => r == 1 ? uncond : cond).ToArray());
    }

    private static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads)
    {
        long b = q.Size(0), n = q.Size(1);
        Tensor Heads(Tensor t) => t.Reshape(b, t.Size(1), heads, -1).Transpose(1, 2);
        Tensor o = F.ScaledDotProductAttention(Heads(q), Heads(k), Heads(v));
        return o.Transpose(1, 2).Reshape(b, n, -1);
    }

    /// <summary>
    /// cubiq's attn_mask at a block: resized (bilinear) to the block's token grid (h from the latent's aspect, rounded up
    /// when the tokens do not divide), repeated to the chunk size then over the chunks, padded or cropped to the tokens.
    /// </summary>
    private Tensor MaskFor(Tensor mask, long seq, long rows)
    {
        double hf = latentHeight / Math.Sqrt(latentHeight * latentWidth / (double)seq);
        long mh = (long)hf;
        mh += seq % mh != 0 ? 1 : 0;
        long mw = seq / mh;
        Tensor m = F.Interpolate(mask.Unsqueeze(1).To(DType.Float32), mh, mw, InterpolationMode.Bilinear).Squeeze(1); // [M, mh, mw]
        long count = m.Size(0);
        long[] pick = new long[rows];
        for (long r = 0; r < rows; r++) pick[r] = Math.Min(r % chunkRows, count - 1);
        m = m.IndexSelect(0, Torch.FromArray(pick, m.Device)).Reshape(rows, mh * mw, 1);
        long len = mh * mw;
        if (len < seq)
        {
            long pad = seq - len;
            m = F.Pad(m, [0, 0, pad / 2, pad - pad / 2]);
        }
        else if (len > seq) m = m.Narrow(1, (len - seq) / 2, seq);
        return m;
    }
}
