using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// BFL DoubleStreamBlock: image and text streams with their own weights (modulation, attention, MLP) that meet in one
/// joint attention over [text; image].
/// </summary>
public sealed class DoubleStreamBlock : Module
{
    private readonly int _heads;

    public DoubleStreamBlock(FluxConfig config)
    {
        _heads = config.Heads;
        ImgMod = Child("img_mod", new Modulation(config.Hidden, isDouble: true));
        ImgAttn = Child("img_attn", new FluxSelfAttention(config.Hidden, config.HeadDim, config.QkvBias));
        ImgMlp = Child("img_mlp", Mlp(config));
        TxtMod = Child("txt_mod", new Modulation(config.Hidden, isDouble: true));
        TxtAttn = Child("txt_attn", new FluxSelfAttention(config.Hidden, config.HeadDim, config.QkvBias));
        TxtMlp = Child("txt_mlp", Mlp(config));
    }

    public Modulation ImgMod { get; }
    public FluxSelfAttention ImgAttn { get; }
    public ModuleList ImgMlp { get; }
    public Modulation TxtMod { get; }
    public FluxSelfAttention TxtAttn { get; }
    public ModuleList TxtMlp { get; }

    // Linear → GELU(tanh) → Linear, registered as 0 and 2 like the nn.Sequential
    private static ModuleList Mlp(FluxConfig c) =>
        new ModuleList().Add(new Linear(c.Hidden, c.MlpHidden)).Add(null).Add(new Linear(c.MlpHidden, c.Hidden));

    private static Tensor RunMlp(ModuleList mlp, Tensor x) =>
        ((Linear)mlp[2]!).Forward(F.Gelu(((Linear)mlp[0]!).Forward(x), tanhApproximation: true));

    /// <summary>img [B, Li, C], txt [B, Lt, C], vec [B, C] → the new (img, txt).</summary>
    public (Tensor Img, Tensor Txt) Forward(Tensor img, Tensor txt, Tensor vec, Tensor cos, Tensor sin)
    {
        using var scope = Torch.NewScope();
        ModulationOut[] im = ImgMod.Forward(vec), tm = TxtMod.Forward(vec);

        var (iq, ik, iv) = FluxAttention.SplitHeads(ImgAttn.Qkv.Forward(im[0].Modulate(img)), _heads, ImgAttn.Norm);
        var (tq, tk, tv) = FluxAttention.SplitHeads(TxtAttn.Qkv.Forward(tm[0].Modulate(txt)), _heads, TxtAttn.Norm);
        Tensor attn = FluxAttention.Compute(
            Torch.Cat([tq, iq], 2), Torch.Cat([tk, ik], 2), Torch.Cat([tv, iv], 2), cos, sin);
        long lt = txt.Size(1);
        Tensor txtAttn = attn.Narrow(1, 0, lt), imgAttn = attn.Narrow(1, lt, attn.Size(1) - lt);

        Tensor newImg = img + im[0].Gate * ImgAttn.Proj.Forward(imgAttn);
        newImg = newImg + im[1].Gate * RunMlp(ImgMlp, im[1].Modulate(newImg));
        Tensor newTxt = txt + tm[0].Gate * TxtAttn.Proj.Forward(txtAttn);
        newTxt = HalfScrub.Apply(newTxt + tm[1].Gate * RunMlp(TxtMlp, tm[1].Modulate(newTxt)));
        return (newImg.MoveToOuterScope(), newTxt.MoveToOuterScope());
    }
}
