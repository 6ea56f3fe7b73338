using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>LDM model.py Downsample (with conv): pad right and bottom by one, then a 3×3 convolution with stride 2.</summary>
public sealed class VaeDownsample : Module
{
    public VaeDownsample(int channels) => Conv = Child("conv", new Conv2d(channels, channels, 3, stride: 2));

    public Conv2d Conv { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return Conv.Forward(F.Pad(x, [0, 1, 0, 1])).MoveToOuterScope();
    }
}

/// <summary>LDM model.py Upsample (with conv): nearest-neighbour ×2, then a 3×3 convolution.</summary>
public sealed class VaeUpsample : Module
{
    public VaeUpsample(int channels) => Conv = Child("conv", new Conv2d(channels, channels, 3, padding: 1));

    public Conv2d Conv { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return Conv.Forward(F.Interpolate(x, 2.0)).MoveToOuterScope();
    }
}
