using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// LDM model.py Encoder: conv_in; per level down.N.block.M ResnetBlocks and (except the last) down.N.downsample;
/// mid (block_1, attn_1, block_2); norm_out, SiLU, conv_out to 2·z_channels (mean and log-variance).
/// </summary>
public sealed class VaeEncoder : Module
{
    private readonly VaeLevel[] _down;

    public VaeEncoder(VaeConfig c)
    {
        ConvIn = Child("conv_in", new Conv2d(c.InChannels, c.Ch, 3, padding: 1));
        var down = Child("down", new ModuleList());
        _down = new VaeLevel[c.ChMult.Length];
        int ch = c.Ch;
        for (int i = 0; i < _down.Length; i++)
        {
            int outCh = c.Ch * c.ChMult[i];
            down.Add(_down[i] = new VaeLevel(ch, outCh, c.NumResBlocks, i != _down.Length - 1 ? VaeLevel.Resample.Down : VaeLevel.Resample.None));
            ch = outCh;
        }
        Mid = Child("mid", new VaeMid(ch));
        NormOut = Child("norm_out", new GroupNorm(32, ch, eps: 1e-6));
        ConvOut = Child("conv_out", new Conv2d(ch, 2 * c.ZChannels, 3, padding: 1));
    }

    public Conv2d ConvIn { get; }
    public IReadOnlyList<VaeLevel> Down => _down;
    public VaeMid Mid { get; }
    public GroupNorm NormOut { get; }
    public Conv2d ConvOut { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor h = ConvIn.Forward(x);
        foreach (var level in _down) h = level.Forward(h);
        h = Mid.Forward(h);
        return ConvOut.Forward(F.Silu(NormOut.Forward(h))).MoveToOuterScope();
    }
}
