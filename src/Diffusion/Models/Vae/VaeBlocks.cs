using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>One resolution level: block.M ResnetBlocks, then a downsample or upsample (or neither).</summary>
public sealed class VaeLevel : Module
{
    public enum Resample { None, Down, Up }

    private readonly ResnetBlock[] _blocks;

    public VaeLevel(int inChannels, int outChannels, int blocks, Resample resample)
    {
        var list = Child("block", new ModuleList());
        _blocks = new ResnetBlock[blocks];
        for (int j = 0; j < blocks; j++) list.Add(_blocks[j] = new ResnetBlock(j == 0 ? inChannels : outChannels, outChannels));
        if (resample == Resample.Down) Downsample = Child("downsample", new VaeDownsample(outChannels));
        if (resample == Resample.Up) Upsample = Child("upsample", new VaeUpsample(outChannels));
    }

    public IReadOnlyList<ResnetBlock> Block => _blocks;
    public VaeDownsample? Downsample { get; }
    public VaeUpsample? Upsample { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        foreach (var block in _blocks)
        {
            Interrupts.ThrowIfRequested();
            x = block.Forward(x);
        }
        if (Downsample is not null) x = Downsample.Forward(x);
        if (Upsample is not null) x = Upsample.Forward(x);
        return x.MoveToOuterScope();
    }
}

/// <summary>The middle: block_1, attn_1 (single-head self-attention), block_2.</summary>
public sealed class VaeMid : Module
{
    public VaeMid(int channels)
    {
        Block1 = Child("block_1", new ResnetBlock(channels, channels));
        Attn1 = Child("attn_1", new AttnBlock(channels));
        Block2 = Child("block_2", new ResnetBlock(channels, channels));
    }

    public ResnetBlock Block1 { get; }
    public AttnBlock Attn1 { get; }
    public ResnetBlock Block2 { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return Block2.Forward(Attn1.Forward(Block1.Forward(x))).MoveToOuterScope();
    }
}
