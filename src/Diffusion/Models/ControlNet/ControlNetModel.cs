using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>
/// A ControlNet (Zhang et al. 2023; LDM/lllyasviel cldm.py layout, as ComfyUI comfy/cldm/cldm.py): a copy of the UNet's
/// encoder (time_embed, label_emb for SDXL, input_blocks, middle_block, built from the same <see cref="UnetConfig"/>),
/// a hint encoder (input_hint_block: eight 3×3 convolutions with SiLU between, stride 2 at the 3rd, 5th and 7th, so the
/// hint image comes down ×8 to latent size), one 1×1 "zero convolution" after every input block (zero_convs.i.0) and one
/// after the middle block (middle_block_out.0).
/// </summary>
public sealed class ControlNetModel : Module
{
    /// <summary>Output channels of the hint encoder's first seven convolutions; the eighth maps to model_channels.</summary>
    private static readonly int[] HintWidths = [16, 16, 32, 32, 96, 96, 256];

    private readonly ModuleList[] _inputBlocks;
    private readonly Conv2d[] _zeroConvs;
    private readonly Conv2d[] _hintConvs;

    public ControlNetModel(UnetConfig config, int hintChannels = 3)
    {
        config.Validate();
        Config = config;
        HintChannels = hintChannels;
        int mc = config.ModelChannels, embDim = mc * 4;
        Child("time_embed", new ModuleList()).Add(TimeEmbed0 = new Linear(mc, embDim)).Add(null).Add(TimeEmbed2 = new Linear(embDim, embDim));
        if (config.AdmInChannels is int adm)
        {
            var mlp = new ModuleList().Add(LabelEmb0 = new Linear(adm, embDim)).Add(null).Add(LabelEmb2 = new Linear(embDim, embDim));
            Child("label_emb", new ModuleList()).Add(mlp);
        }

        SpatialTransformer Attention(int ch, int depth)
        {
            var (heads, headDim) = config.AttentionHeads(ch);
            return new SpatialTransformer(ch, heads, headDim, depth, config.ContextDim, config.UseLinearInTransformer);
        }

        var input = Child("input_blocks", new ModuleList());
        var zero = Child("zero_convs", new ModuleList());
        var zeroConvs = new List<Conv2d>();
        void AddBlock(ModuleList block, int channels)
        {
            input.Add(block);
            var conv = new Conv2d(channels, channels, 1);
            zero.Add(new ModuleList().Add(conv));
            zeroConvs.Add(conv);
        }

        AddBlock(new ModuleList().Add(new Conv2d(config.InChannels, mc, 3, padding: 1)), mc);
        int ch = mc;
        for (int level = 0; level < config.Levels; level++)
        {
            int depth = config.TransformerDepth[level];
            for (int r = 0; r < config.NumResBlocks; r++)
            {
                var block = new ModuleList().Add(new ResBlock(ch, embDim, config.ChannelMult[level] * mc));
                ch = config.ChannelMult[level] * mc;
                if (depth > 0) block.Add(Attention(ch, depth));
                AddBlock(block, ch);
            }
            if (level != config.Levels - 1) AddBlock(new ModuleList().Add(new Downsample(ch)), ch);
        }

        var hint = Child("input_hint_block", new ModuleList());
        var hintConvs = new List<Conv2d>();
        int hintIn = hintChannels;
        for (int k = 0; k <= HintWidths.Length; k++)
        {
            int outChannels = k < HintWidths.Length ? HintWidths[k] : mc;
            var conv = new Conv2d(hintIn, outChannels, 3, stride: k is 2 or 4 or 6 ? 2 : 1, padding: 1);
            hint.Add(conv);
            if (k < HintWidths.Length) hint.Add(null); // SiLU
            hintConvs.Add(conv);
            hintIn = outChannels;
        }

        var middle = new ModuleList().Add(new ResBlock(ch, embDim, ch));
        if (config.TransformerDepthMiddle > 0) middle.Add(Attention(ch, config.TransformerDepthMiddle));
        MiddleBlock = Child("middle_block", middle.Add(new ResBlock(ch, embDim, ch)));
        Child("middle_block_out", new ModuleList()).Add(MiddleBlockOut = new Conv2d(ch, ch, 1));

        _inputBlocks = [.. input.Items.Cast<ModuleList>()];
        _zeroConvs = [.. zeroConvs];
        _hintConvs = [.. hintConvs];
    }

    public UnetConfig Config { get; }
    public int HintChannels { get; }
    public Linear TimeEmbed0 { get; }
    public Linear TimeEmbed2 { get; }
    public Linear? LabelEmb0 { get; }
    public Linear? LabelEmb2 { get; }
    public ModuleList MiddleBlock { get; }
    public Conv2d MiddleBlockOut { get; }

    /// <summary>Residuals per input block (the UNet adds residual i to the skip saved after its input block i).</summary>
    public int ResidualCount => _inputBlocks.Length;

    /// <summary>Where the weights are.</summary>
    public Device Device => MiddleBlockOut.Weight.Value.Device;

    public DType DType => MiddleBlockOut.Weight.Value.DType;

    /// <summary>
    /// x [B, in, h, w] (the UNet's scaled input), hint [B or 1, hint_channels, 8h, 8w], timesteps [B], context
    /// [B, tokens, context_dim], y [B, adm] for SDXL → one residual per input block and the middle one, in the weights'
    /// dtype and device, before strength.
    /// </summary>
    public (Tensor[] Skips, Tensor Middle) Forward(Tensor x, Tensor hint, Tensor timesteps, Tensor context, Tensor? y = null)
    {
        if (x.Dim != 4 || x.Size(1) != Config.InChannels) throw new ArgumentException($"x must be [B, {Config.InChannels}, h, w], got {x}");
        if (hint.Dim != 4 || hint.Size(1) != HintChannels || hint.Size(2) != x.Size(2) * 8 || hint.Size(3) != x.Size(3) * 8)
            throw new ArgumentException($"hint must be [B, {HintChannels}, {x.Size(2) * 8}, {x.Size(3) * 8}], got {hint}");
        if (context.Dim != 3 || context.Size(2) != Config.ContextDim)
            throw new ArgumentException($"context must be [B, tokens, {Config.ContextDim}], got {context}");
        if (Config.AdmInChannels is int adm && (y is null || y.Dim != 2 || y.Size(1) != adm))
            throw new ArgumentException($"this ControlNet needs the ADM vector y [B, {adm}] (SDXL size conditioning)");

        using var scope = Torch.NewScope();
        Device device = Device;
        DType dtype = DType;
        Tensor emb = TimestepEmbedding.Sinusoidal(timesteps.To(device), Config.ModelChannels).To(dtype);
        emb = TimeEmbed2.Forward(F.Silu(TimeEmbed0.Forward(emb)));
        if (LabelEmb0 is not null) emb = emb + LabelEmb2!.Forward(F.Silu(LabelEmb0.Forward(y!.To(device, dtype))));
        Tensor ctx = context.To(device, dtype);

        Tensor guided = hint.To(device, dtype);
        for (int k = 0; k < _hintConvs.Length; k++)
        {
            guided = _hintConvs[k].Forward(guided);
            if (k < _hintConvs.Length - 1) guided = F.Silu(guided);
        }

        var skips = new Tensor[_inputBlocks.Length];
        Tensor h = x.To(device, dtype);
        for (int i = 0; i < _inputBlocks.Length; i++)
        {
            h = Run(_inputBlocks[i], h, emb, ctx);
            // cldm.py: the hint features join once, right after the first input block (the conv_in).
            if (i == 0) h = h + guided;
            skips[i] = _zeroConvs[i].Forward(h).MoveToOuterScope();
        }
        h = Run(MiddleBlock, h, emb, ctx);
        Tensor middle = MiddleBlockOut.Forward(h).MoveToOuterScope();
        return (skips, middle);
    }

    // LDM TimestepEmbedSequential, encoder layers only; no attention patches reach the ControlNet (as in ComfyUI).
    private static Tensor Run(ModuleList block, Tensor h, Tensor emb, Tensor context)
    {
        foreach (Module? layer in block.Items)
        {
            Interrupts.ThrowIfRequested();
            h = layer switch
            {
                ResBlock r => r.Forward(h, emb),
                SpatialTransformer t => t.Forward(h, context),
                Downsample d => d.Forward(h),
                Conv2d c => c.Forward(h),
                _ => throw new InvalidOperationException($"unexpected ControlNet layer {layer?.GetType().Name}"),
            };
        }
        return h;
    }
}
