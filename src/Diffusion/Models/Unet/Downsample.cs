using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>LDM openaimodel.py Downsample: a 3×3 convolution with stride 2 and padding 1 (key "op").</summary>
public sealed class Downsample : Module
{
    public Downsample(int channels) => Op = Child("op", new Conv2d(channels, channels, 3, stride: 2, padding: 1));

    public Conv2d Op { get; }

    public Tensor Forward(Tensor x) => Op.Forward(x);
}

/// <summary>
/// LDM openaimodel.py Upsample: nearest-neighbour ×2, then a 3×3 convolution (key "conv"). Given the size of the skip it
/// will be joined with, it resizes to that size instead (as ComfyUI does), so odd latent sizes work.
/// </summary>
public sealed class Upsample : Module
{
    public Upsample(int channels) => Conv = Child("conv", new Conv2d(channels, channels, 3, padding: 1));

    public Conv2d Conv { get; }

    public Tensor Forward(Tensor x, (long H, long W)? outputSize = null)
    {
        using var scope = Torch.NewScope();
        Tensor up = outputSize is { } s ? F.Interpolate(x, s.H, s.W) : F.Interpolate(x, 2.0);
        return Conv.Forward(up).MoveToOuterScope();
    }
}
