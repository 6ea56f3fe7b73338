using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// The LDM UNet of SD1.x/SD2.x/SDXL (LDM openaimodel.py UNetModel; in checkpoints under "model.diffusion_model.").
/// It predicts ε or v for an already scaled input (c_in) at timestep t; how σ maps to t and to the input and output
/// belongs to the model sampling, not here. Blocks are index-named lists as in LDM's TimestepEmbedSequential.
/// </summary>
public sealed class UnetModel : Module
{
    private readonly ModuleList[] _inputBlocks;
    private readonly ModuleList[] _outputBlocks;

    public UnetModel(UnetConfig config)
    {
        config.Validate();
        Config = config;
        int mc = config.ModelChannels, embDim = mc * 4;
        Child("time_embed", new ModuleList()).Add(TimeEmbed0 = new Linear(mc, embDim)).Add(null).Add(TimeEmbed2 = new Linear(embDim, embDim));
        // openaimodel.py num_classes="sequential": label_emb = Sequential(Sequential(Linear, SiLU, Linear)), hence "label_emb.0.0".
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
        input.Add(new ModuleList().Add(new Conv2d(config.InChannels, mc, 3, padding: 1)));
        var skipChannels = new Stack<int>([mc]);
        int ch = mc;
        for (int level = 0; level < config.Levels; level++)
        {
            int depth = config.TransformerDepth[level];
            for (int r = 0; r < config.NumResBlocks; r++)
            {
                var block = new ModuleList().Add(new ResBlock(ch, embDim, config.ChannelMult[level] * mc));
                ch = config.ChannelMult[level] * mc;
                if (depth > 0) block.Add(Attention(ch, depth));
                input.Add(block);
                skipChannels.Push(ch);
            }
            if (level != config.Levels - 1)
            {
                input.Add(new ModuleList().Add(new Downsample(ch)));
                skipChannels.Push(ch);
            }
        }

        var middle = new ModuleList().Add(new ResBlock(ch, embDim, ch));
        if (config.TransformerDepthMiddle > 0) middle.Add(Attention(ch, config.TransformerDepthMiddle));
        MiddleBlock = Child("middle_block", middle.Add(new ResBlock(ch, embDim, ch)));

        var output = Child("output_blocks", new ModuleList());
        for (int level = config.Levels - 1; level >= 0; level--)
        {
            int depth = config.TransformerDepth[level];
            for (int r = 0; r <= config.NumResBlocks; r++)
            {
                var block = new ModuleList().Add(new ResBlock(ch + skipChannels.Pop(), embDim, config.ChannelMult[level] * mc));
                ch = config.ChannelMult[level] * mc;
                if (depth > 0) block.Add(Attention(ch, depth));
                if (level > 0 && r == config.NumResBlocks) block.Add(new Upsample(ch));
                output.Add(block);
            }
        }

        Child("out", new ModuleList()).Add(OutNorm = new GroupNorm(32, ch)).Add(null).Add(OutConv = new Conv2d(ch, config.OutChannels, 3, padding: 1));
        _inputBlocks = [.. input.Items.Cast<ModuleList>()];
        _outputBlocks = [.. output.Items.Cast<ModuleList>()];
    }

    public UnetConfig Config { get; }
    public Linear TimeEmbed0 { get; }
    public Linear TimeEmbed2 { get; }

    /// <summary>label_emb.0.0 / label_emb.0.2 when the config has an ADM input (SDXL), else null.</summary>
    public Linear? LabelEmb0 { get; }
    public Linear? LabelEmb2 { get; }
    public IReadOnlyList<ModuleList> InputBlocks => _inputBlocks;
    public ModuleList MiddleBlock { get; }
    public IReadOnlyList<ModuleList> OutputBlocks => _outputBlocks;
    public GroupNorm OutNorm { get; }
    public Conv2d OutConv { get; }

    /// <summary>
    /// x [B, in, h, w], timesteps [B] (float, one per sample), context [B, 77·k, context_dim] → [B, out, h, w] in x's dtype.
    /// Runs in the weights' dtype and device. Batch rows are independent, so CFG batches cond and uncond here.
    /// <paramref name="y"/> [B, adm_in_channels] is the ADM vector (SDXL: pooled text ‖ size embeddings); required exactly
    /// when the config has <see cref="UnetConfig.AdmInChannels"/>. <paramref name="call"/> adds ControlNet residuals
    /// and attention patches; null (or a call without either) runs the plain network.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor timesteps, Tensor context, Tensor? y = null, UnetCall? call = null)
    {
        if (x.Dim != 4 || x.Size(1) != Config.InChannels) throw new ArgumentException($"x must be [B, {Config.InChannels}, h, w], got {x}");
        if (timesteps.Dim != 1 || timesteps.Size(0) != x.Size(0)) throw new ArgumentException($"timesteps must be [{x.Size(0)}], got {timesteps}");
        if (context.Dim != 3 || context.Size(0) != x.Size(0) || context.Size(2) != Config.ContextDim)
            throw new ArgumentException($"context must be [{x.Size(0)}, tokens, {Config.ContextDim}], got {context}");
        if (Config.AdmInChannels is int adm)
        {
            if (y is null) throw new ArgumentException($"this UNet needs the ADM vector y [{x.Size(0)}, {adm}] (SDXL size conditioning)");
            if (y.Dim != 2 || y.Size(0) != x.Size(0) || y.Size(1) != adm)
                throw new ArgumentException($"y must be [{x.Size(0)}, {adm}], got {y}");
        }
        else if (y is not null) throw new ArgumentException("this UNet has no label_emb; y must be null");

        using var scope = Torch.NewScope();
        Tensor w = OutConv.Weight.Value;
        Tensor emb = TimestepEmbedding.Sinusoidal(timesteps.To(w.Device), Config.ModelChannels).To(w.DType);
        emb = TimeEmbed2.Forward(F.Silu(TimeEmbed0.Forward(emb)));
        if (y is not null) emb = emb + LabelEmb2!.Forward(F.Silu(LabelEmb0!.Forward(y.To(w.Device, w.DType))));
        Tensor ctx = context.To(w.Device, w.DType);

        var hs = new Stack<Tensor>();
        Tensor h = x.To(w.Device, w.DType);
        for (int i = 0; i < _inputBlocks.Length; i++)
        {
            h = RunBlock(_inputBlocks[i], h, emb, ctx, null, call, UnetStage.Input, i);
            hs.Push(h);
        }
        h = RunBlock(MiddleBlock, h, emb, ctx, null, call, UnetStage.Middle, 0);
        if (call?.Control?.Middle is { } middle) h = h + middle.To(h.Device, h.DType);
        for (int o = 0; o < _outputBlocks.Length; o++)
        {
            var block = _outputBlocks[o];
            Tensor skip = hs.Pop();
            // ComfyUI adds control residual i to the skip saved after input block i, not to the stream down the encoder.
            if (call?.Control is { } control && hs.Count < control.Skips.Count && control.Skips[hs.Count] is { } residual)
            {
                Tensor added = skip + residual.To(skip.Device, skip.DType);
                skip.Dispose();
                skip = added;
            }
            Tensor joined = Torch.Cat([h, skip], 1);
            h.Dispose();
            skip.Dispose();
            (long, long)? next = hs.TryPeek(out Tensor? s) ? (s.Size(2), s.Size(3)) : null;
            h = RunBlock(block, joined, emb, ctx, next, call, UnetStage.Output, o);
            joined.Dispose();
        }
        Tensor result = OutConv.Forward(F.Silu(OutNorm.Forward(h)));
        return result.To(x.DType).MoveToOuterScope();
    }

    /// <summary>
    /// Recompute each input, middle and output block in the backward pass instead of keeping its activations
    /// (gradient checkpointing; training only, it has no effect without grad mode). Same gradients, less memory, about
    /// one more forward pass of time.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    private Tensor RunBlock(ModuleList block, Tensor h, Tensor emb, Tensor context, (long, long)? skipSize,
        UnetCall? call, UnetStage stage, int index) =>
        GradientCheckpointing && Autograd.IsGradEnabled
            ? GradientCheckpoint.Run(xs => Run(block, xs[0], xs[1], xs[2], skipSize, call, stage, index), h, emb, context)
            : Run(block, h, emb, context, skipSize, call, stage, index);

    // LDM TimestepEmbedSequential: each layer takes what it needs.
    private static Tensor Run(ModuleList block, Tensor h, Tensor emb, Tensor context, (long, long)? skipSize,
        UnetCall? call, UnetStage stage, int index)
    {
        using var scope = Torch.NewScope();
        foreach (Module? layer in block.Items)
        {
            Interrupts.ThrowIfRequested();
            h = layer switch
            {
                ResBlock r => r.Forward(h, emb),
                SpatialTransformer t => t.Forward(h, context, call, stage, index),
                Downsample d => d.Forward(h),
                Upsample u => u.Forward(h, skipSize),
                Conv2d c => c.Forward(h),
                _ => throw new InvalidOperationException($"unexpected UNet layer {layer?.GetType().Name}"),
            };
        }
        return h.MoveToOuterScope();
    }
}
