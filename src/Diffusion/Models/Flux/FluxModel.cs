using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// The FLUX.1 transformer (BFL Flux / ComfyUI comfy.ldm.flux.model.Flux) with the checkpoint's own names
/// (img_in, time_in, guidance_in, vector_in, txt_in, double_blocks.N, single_blocks.N, final_layer), so a BFL or
/// ComfyUI file loads by walking names. It predicts the flow velocity for a latent at σ.
/// </summary>
public sealed class FluxModel : Module
{
    public FluxModel(FluxConfig config)
    {
        if (config.AxesDim.Sum() != config.HeadDim)
            throw new ArgumentException($"RoPE axes {string.Join('/', config.AxesDim)} do not fill the head width {config.HeadDim}");
        Config = config;
        ImgIn = Child("img_in", new Linear(config.PatchChannels, config.Hidden));
        TimeIn = Child("time_in", new MlpEmbedder(FluxConfig.TimeFeatures, config.Hidden));
        VectorIn = Child("vector_in", new MlpEmbedder(config.VecDim, config.Hidden));
        GuidanceIn = config.GuidanceEmbed ? Child("guidance_in", new MlpEmbedder(FluxConfig.TimeFeatures, config.Hidden)) : null;
        TxtIn = Child("txt_in", new Linear(config.ContextDim, config.Hidden));
        var doubles = Child("double_blocks", new ModuleList());
        for (int i = 0; i < config.DoubleBlocks; i++) doubles.Add(new DoubleStreamBlock(config));
        var singles = Child("single_blocks", new ModuleList());
        for (int i = 0; i < config.SingleBlocks; i++) singles.Add(new SingleStreamBlock(config));
        DoubleBlocks = doubles.Items.Cast<DoubleStreamBlock>().ToArray();
        SingleBlocks = singles.Items.Cast<SingleStreamBlock>().ToArray();
        FinalLayer = Child("final_layer", new FluxFinalLayer(config));
    }

    public FluxConfig Config { get; }
    public Linear ImgIn { get; }
    public MlpEmbedder TimeIn { get; }
    public MlpEmbedder VectorIn { get; }
    public MlpEmbedder? GuidanceIn { get; }
    public Linear TxtIn { get; }
    public IReadOnlyList<DoubleStreamBlock> DoubleBlocks { get; }
    public IReadOnlyList<SingleStreamBlock> SingleBlocks { get; }
    public FluxFinalLayer FinalLayer { get; }

    /// <summary>
    /// One model call: latent x [B, C, H, W] at timestep t [B] (σ, in [0, 1]), T5 states context [B, Lt, ContextDim],
    /// pooled CLIP-L y [B, VecDim], guidance [B] (dev; null skips the guidance embedding as ComfyUI does) → the
    /// velocity [B, C, H, W]. Odd sizes are padded circularly to whole 2×2 patches and cropped back.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor timestep, Tensor context, Tensor y, Tensor? guidance = null)
    {
        using var scope = Torch.NewScope();
        long h = x.Size(2), w = x.Size(3);
        Tensor padded = FluxPatches.PadCircular(x);
        int rows = (int)(padded.Size(2) / 2), cols = (int)(padded.Size(3) / 2);

        Tensor img = ImgIn.Forward(FluxPatches.Patchify(padded));
        DType dtype = img.DType;
        Tensor vec = TimeIn.Forward(TimestepEmbedding.Sinusoidal(timestep * 1000.0, FluxConfig.TimeFeatures).To(dtype));
        if (GuidanceIn is not null && guidance is not null)
            vec = vec + GuidanceIn.Forward(TimestepEmbedding.Sinusoidal(guidance * 1000.0, FluxConfig.TimeFeatures).To(dtype));
        vec = vec + VectorIn.Forward(y.Narrow(1, 0, Config.VecDim).To(dtype));
        Tensor txt = TxtIn.Forward(context.To(dtype));
        int textTokens = (int)txt.Size(1);

        var (cos, sin) = FluxRope.Angles(FluxRope.JointPositions(textTokens, rows, cols), Config.AxesDim, Config.Theta, x.Device);
        foreach (DoubleStreamBlock block in DoubleBlocks)
        {
            Interrupts.ThrowIfRequested();
            (img, txt) = block.Forward(img, txt, vec, cos, sin);
        }
        Tensor joint = Torch.Cat([txt, img], 1);
        foreach (SingleStreamBlock block in SingleBlocks)
        {
            Interrupts.ThrowIfRequested();
            joint = block.Forward(joint, vec, cos, sin);
        }
        img = joint.Narrow(1, textTokens, joint.Size(1) - textTokens);
        Tensor output = FluxPatches.Unpatchify(FinalLayer.Forward(img, vec), rows, cols);
        if (output.Size(2) != h || output.Size(3) != w) output = output.Narrow(2, 0, h).Narrow(3, 0, w);
        return output.Contiguous().MoveToOuterScope();
    }
}

/// <summary>BFL LastLayer: (shift, scale) from adaLN_modulation.1(SiLU(vec)), then a linear map to patch channels.</summary>
public sealed class FluxFinalLayer : Module
{
    public FluxFinalLayer(FluxConfig config)
    {
        Linear = Child("linear", new Linear(config.Hidden, config.PatchChannels));
        var ada = Child("adaLN_modulation", new ModuleList());
        ada.Add(null).Add(AdaLn = new Linear(config.Hidden, 2 * config.Hidden));
    }

    public Linear Linear { get; }
    public Linear AdaLn { get; }

    public Tensor Forward(Tensor x, Tensor vec)
    {
        using var scope = Torch.NewScope();
        Tensor[] shiftScale = AdaLn.Forward(F.Silu(vec)).Unsqueeze(1).Chunk(2, -1);
        var mod = new ModulationOut(shiftScale[0], shiftScale[1], shiftScale[1]);
        return Linear.Forward(mod.Modulate(x)).MoveToOuterScope();
    }
}

/// <summary>2×2 patch packing of a latent, channel-major within a token: (c, ph, pw).</summary>
public static class FluxPatches
{
    /// <summary>Pads odd heights and widths to even by wrapping the first row/column around (torch "circular").</summary>
    public static Tensor PadCircular(Tensor x)
    {
        if (x.Size(2) % 2 == 0 && x.Size(3) % 2 == 0) return x.Alias();
        using var scope = Torch.NewScope();
        Tensor t = x;
        if (t.Size(2) % 2 != 0) t = Torch.Cat([t, t.Narrow(2, 0, 1)], 2);
        if (t.Size(3) % 2 != 0) t = Torch.Cat([t, t.Narrow(3, 0, 1)], 3);
        return t.MoveToOuterScope();
    }

    /// <summary>[B, C, 2h, 2w] → [B, h·w, 4C].</summary>
    public static Tensor Patchify(Tensor x)
    {
        using var scope = Torch.NewScope();
        long b = x.Size(0), c = x.Size(1), h = x.Size(2) / 2, w = x.Size(3) / 2;
        return x.Reshape(b, c, h, 2, w, 2).Permute(0, 2, 4, 1, 3, 5).Reshape(b, h * w, c * 4).MoveToOuterScope();
    }

    /// <summary>[B, h·w, 4C] → [B, C, 2h, 2w].</summary>
    public static Tensor Unpatchify(Tensor tokens, int rows, int cols)
    {
        using var scope = Torch.NewScope();
        long b = tokens.Size(0), c = tokens.Size(2) / 4;
        return tokens.Reshape(b, rows, cols, c, 2, 2).Permute(0, 3, 1, 4, 2, 5).Reshape(b, c, rows * 2, cols * 2).MoveToOuterScope();
    }
}
