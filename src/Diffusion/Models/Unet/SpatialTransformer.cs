using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// LDM attention.py SpatialTransformer: GroupNorm (eps 1e-6), proj_in, transformer blocks over the H·W tokens,
/// proj_out, plus the input. Projections are 1×1 convolutions in SD1 and Linear layers in SD2/SDXL
/// (use_linear_in_transformer), applied before/after flattening to tokens respectively.
/// </summary>
public sealed class SpatialTransformer : Module
{
    private readonly BasicTransformerBlock[] _blocks;

    public SpatialTransformer(int channels, int heads, int headDim, int depth, int contextDim, bool useLinear)
    {
        int inner = heads * headDim;
        UseLinear = useLinear;
        Norm = Child("norm", new GroupNorm(32, channels, eps: 1e-6));
        ProjIn = Child<Module>("proj_in", useLinear ? new Linear(channels, inner) : new Conv2d(channels, inner, 1));
        var list = Child("transformer_blocks", new ModuleList());
        _blocks = new BasicTransformerBlock[depth];
        for (int d = 0; d < depth; d++) list.Add(_blocks[d] = new BasicTransformerBlock(inner, contextDim, heads, headDim));
        ProjOut = Child<Module>("proj_out", useLinear ? new Linear(inner, channels) : new Conv2d(inner, channels, 1));
    }

    public bool UseLinear { get; }
    public GroupNorm Norm { get; }
    public Module ProjIn { get; }
    public IReadOnlyList<BasicTransformerBlock> TransformerBlocks => _blocks;
    public Module ProjOut { get; }

    /// <summary>
    /// x [B, C, H, W], context [B, M, contextDim] → [B, C, H, W]. With a <paramref name="call"/> that has attention
    /// patches, each transformer block's attn2 is patched for its site (<paramref name="stage"/>, <paramref name="block"/>,
    /// its index here).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor context, UnetCall? call = null, UnetStage stage = UnetStage.Input, int block = 0)
    {
        using var scope = Torch.NewScope();
        long b = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        Tensor z = Norm.Forward(x);
        if (!UseLinear) z = ((Conv2d)ProjIn).Forward(z);
        z = z.Reshape(b, z.Size(1), h * w).Transpose(1, 2);
        if (UseLinear) z = ((Linear)ProjIn).Forward(z);
        for (int i = 0; i < _blocks.Length; i++)
        {
            Interrupts.ThrowIfRequested();
            z = _blocks[i].Forward(z, context, call?.Attn2For(new AttentionSite(stage, block, i)));
        }
        if (UseLinear) z = ((Linear)ProjOut).Forward(z);
        z = z.Transpose(1, 2).Reshape(b, z.Size(2), h, w);
        if (!UseLinear) z = ((Conv2d)ProjOut).Forward(z);
        return (z + x).MoveToOuterScope();
    }
}
