using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// LDM model.py ResnetBlock without a time embedding: h = conv2(silu(norm2(conv1(silu(norm1 x))))); nin_shortcut(x) + h.
/// GroupNorm 32 with eps 1e-6 (LDM Normalize).
/// </summary>
public sealed class ResnetBlock : Module
{
    public ResnetBlock(int inChannels, int outChannels)
    {
        Norm1 = Child("norm1", new GroupNorm(32, inChannels, eps: 1e-6));
        Conv1 = Child("conv1", new Conv2d(inChannels, outChannels, 3, padding: 1));
        Norm2 = Child("norm2", new GroupNorm(32, outChannels, eps: 1e-6));
        Conv2 = Child("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1));
        if (inChannels != outChannels) NinShortcut = Child("nin_shortcut", new Conv2d(inChannels, outChannels, 1));
    }

    public GroupNorm Norm1 { get; }
    public Conv2d Conv1 { get; }
    public GroupNorm Norm2 { get; }
    public Conv2d Conv2 { get; }
    public Conv2d? NinShortcut { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor h = Conv1.Forward(F.Silu(Norm1.Forward(x)));
        h = Conv2.Forward(F.Silu(Norm2.Forward(h)));
        return ((NinShortcut?.Forward(x) ?? x) + h).MoveToOuterScope();
    }
}
