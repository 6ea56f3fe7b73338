using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// One cross-attention layer as IP-Adapter sees it: ComfyUI's transformer_index (<see cref="TransformerIndex"/>, counted
/// per SpatialTransformer in forward order), the adapter layer it uses (<see cref="LayerIndex"/>, file key 2i+1) and
/// its channel count.
/// </summary>
public readonly record struct IpAdapterSite(AttentionSite Site, int TransformerIndex, int LayerIndex, long Channels);

/// <summary>
/// Where an adapter's layers go in a UNet, in cubiq's registration order: the input blocks' transformer blocks, then the
/// output blocks', then the middle block's (SD1.5: input 1,2,4,5,7,8 → 0–5, output 3–11 → 6–14, middle → 15; SDXL: 24
/// input, 36 output, 10 middle layers). <see cref="Layers"/> counts SpatialTransformers (16 SD1.5, 11 SDXL), the
/// denominator of the ease weight types.
/// </summary>
public sealed class IpAdapterLayout
{
    private readonly Dictionary<AttentionSite, IpAdapterSite> _sites = [];

    public IpAdapterLayout(UnetModel unet)
    {
        IsSdxl = unet.Config.AdmInChannels is not null;
        ContextDim = unet.Config.ContextDim;
        var ordered = new List<(UnetStage Stage, int Block, SpatialTransformer T, int TIdx)>();
        int tIdx = 0;
        void Scan(UnetStage stage, int block, Tensors.Nn.ModuleList list)
        {
            foreach (var layer in list.Items)
                if (layer is SpatialTransformer t) ordered.Add((stage, block, t, tIdx++));
        }
        for (int i = 0; i < unet.InputBlocks.Count; i++) Scan(UnetStage.Input, i, unet.InputBlocks[i]);
        Scan(UnetStage.Middle, 0, unet.MiddleBlock);
        for (int i = 0; i < unet.OutputBlocks.Count; i++) Scan(UnetStage.Output, i, unet.OutputBlocks[i]);
        Layers = tIdx;

        int number = 0;
        foreach (UnetStage stage in new[] { UnetStage.Input, UnetStage.Output, UnetStage.Middle })
            foreach (var (s, block, t, idx) in ordered.Where(o => o.Stage == stage))
                for (int d = 0; d < t.TransformerBlocks.Count; d++)
                {
                    var site = new AttentionSite(s, block, d);
                    long channels = t.TransformerBlocks[d].Attn2.ToK.Weight.Shape[0];
                    _sites[site] = new IpAdapterSite(site, idx, number++, channels);
                }
        CrossAttentionLayers = number;
    }

    public bool IsSdxl { get; }
    public int ContextDim { get; }

    /// <summary>SpatialTransformers in the UNet (ComfyUI's transformer_index range).</summary>
    public int Layers { get; }

    /// <summary>Cross-attention layers (transformer blocks), the number of layers an adapter must have.</summary>
    public int CrossAttentionLayers { get; }

    public IReadOnlyCollection<IpAdapterSite> Sites => _sites.Values;

    public IpAdapterSite this[AttentionSite site] => _sites[site];

    /// <summary>"SDXL", "SD1.5", "SD2.x" or the context width, for messages.</summary>
    public string Family => IsSdxl ? "SDXL" : IpAdapterInfo.FamilyOf(ContextDim);

    /// <summary>Refuses an adapter made for another family (context width or layer count or channels differ), naming both.</summary>
    public void EnsureFits(IpAdapterModel adapter, string adapterName)
    {
        IpAdapterInfo info = adapter.Info;
        string Mismatch(string what) =>
            $"IP-Adapter '{adapterName}' is a {info} and does not fit this {Family} model "
            + $"({CrossAttentionLayers} cross-attention layers, context {ContextDim}): {what}";
        if (info.ContextDim != ContextDim) throw new IpAdapterMismatchException(Mismatch($"context {info.ContextDim} ≠ {ContextDim}"));
        if (adapter.LayerCount != CrossAttentionLayers)
            throw new IpAdapterMismatchException(Mismatch($"{adapter.LayerCount} adapter layers ≠ {CrossAttentionLayers}"));
        foreach (IpAdapterSite s in Sites)
            if (adapter.Channels(s.LayerIndex) != s.Channels)
                throw new IpAdapterMismatchException(Mismatch($"layer {2 * s.LayerIndex + 1} has {adapter.Channels(s.LayerIndex)} channels, the UNet {s.Channels}"));
    }
}

/// <summary>An IP-Adapter applied to a model of another family.</summary>
public sealed class IpAdapterMismatchException(string message) : Exception(message);
