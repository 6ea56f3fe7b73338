using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// LDM model.py Decoder: conv_in from z; mid; levels from the lowest resolution up, each up.N.block.M ResnetBlocks
/// (num_res_blocks + 1) and (except level 0) up.N.upsample; norm_out, SiLU, conv_out. LDM stores the levels with
/// up.0 at full resolution, so they run in reverse index order.
/// </summary>
public sealed class VaeDecoder : Module
{
    private readonly VaeLevel[] _up;

    public VaeDecoder(VaeConfig c)
    {
        int levels = c.ChMult.Length;
        int ch = c.Ch * c.ChMult[^1];
        ConvIn = Child("conv_in", new Conv2d(c.ZChannels, ch, 3, padding: 1));
        Mid = Child("mid", new VaeMid(ch));
        _up = new VaeLevel[levels];
        for (int i = levels - 1; i >= 0; i--)
        {
            int outCh = c.Ch * c.ChMult[i];
            _up[i] = new VaeLevel(ch, outCh, c.NumResBlocks + 1, i != 0 ? VaeLevel.Resample.Up : VaeLevel.Resample.None);
            ch = outCh;
        }
        var up = Child("up", new ModuleList());
        foreach (var level in _up) up.Add(level);
        NormOut = Child("norm_out", new GroupNorm(32, ch, eps: 1e-6));
        ConvOut = Child("conv_out", new Conv2d(ch, c.OutCh, 3, padding: 1));
    }

    public Conv2d ConvIn { get; }
    public VaeMid Mid { get; }
    public IReadOnlyList<VaeLevel> Up => _up;
    public GroupNorm NormOut { get; }
    public Conv2d ConvOut { get; }

    public Tensor Forward(Tensor z)
    {
        using var scope = Torch.NewScope();
        Tensor h = Mid.Forward(ConvIn.Forward(z));
        Interrupts.ThrowIfRequested();
        for (int i = _up.Length - 1; i >= 0; i--) h = _up[i].Forward(h);
        return ConvOut.Forward(F.Silu(NormOut.Forward(h))).MoveToOuterScope();
    }
}
