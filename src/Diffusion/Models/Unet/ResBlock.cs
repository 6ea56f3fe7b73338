using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// LDM openaimodel.py ResBlock (no scale-shift norm): h = conv(silu(norm x)); h += linear(silu emb);
/// h = conv(silu(norm h)); return skip(x) + h. Keys: in_layers.{0,2}, emb_layers.1, out_layers.{0,3}, skip_connection.
/// </summary>
public sealed class ResBlock : Module
{
    public ResBlock(int channels, int embChannels, int outChannels)
    {
        var inLayers = Child("in_layers", new ModuleList());
        inLayers.Add(InNorm = new GroupNorm(32, channels)).Add(null).Add(InConv = new Conv2d(channels, outChannels, 3, padding: 1));
        Child("emb_layers", new ModuleList()).Add(null).Add(EmbLinear = new Linear(embChannels, outChannels));
        var outLayers = Child("out_layers", new ModuleList());
        outLayers.Add(OutNorm = new GroupNorm(32, outChannels)).Add(null).Add(null).Add(OutConv = new Conv2d(outChannels, outChannels, 3, padding: 1));
        if (channels != outChannels) SkipConnection = Child("skip_connection", new Conv2d(channels, outChannels, 1));
    }

    public GroupNorm InNorm { get; }
    public Conv2d InConv { get; }
    public Linear EmbLinear { get; }
    public GroupNorm OutNorm { get; }
    public Conv2d OutConv { get; }
    public Conv2d? SkipConnection { get; }

    /// <summary>x [B, C, H, W], emb [B, E] → [B, out, H, W].</summary>
    public Tensor Forward(Tensor x, Tensor emb)
    {
        using var scope = Torch.NewScope();
        Tensor h = InConv.Forward(F.Silu(InNorm.Forward(x)));
        h = h + EmbLinear.Forward(F.Silu(emb)).Unsqueeze(-1).Unsqueeze(-1);
        h = OutConv.Forward(F.Silu(OutNorm.Forward(h)));
        Tensor skip = SkipConnection?.Forward(x) ?? x;
        return (skip + h).MoveToOuterScope();
    }
}
