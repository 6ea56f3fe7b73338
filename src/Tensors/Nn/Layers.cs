namespace CharacterGen.Tensors.Nn;

/// <summary>y = x Wᵀ + b; weight [out, in].</summary>
public sealed class Linear : Module
{
    public Linear(long inFeatures, long outFeatures, bool bias = true)
    {
        Weight = Param("weight", outFeatures, inFeatures);
        Bias = bias ? Param("bias", outFeatures) : null;
    }

    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>An addition to the output that leaves the weights alone (a LoRA being trained); null: none.</summary>
    public ILayerAdapter? Adapter { get; set; }

    public Tensor Forward(Tensor x)
    {
        Tensor y = F.Linear(x, Weight.Value, Bias?.Value);
        return Adapter is null ? y : Adapter.Adapt(x, y);
    }
}

/// <summary>2-D convolution; weight [out, in/groups, k, k].</summary>
public sealed class Conv2d : Module
{
    public Conv2d(long inChannels, long outChannels, int kernel, int stride = 1, int padding = 0, int groups = 1, bool bias = true)
    {
        Stride = stride;
        Padding = padding;
        Groups = groups;
        Weight = Param("weight", outChannels, inChannels / groups, kernel, kernel);
        Bias = bias ? Param("bias", outChannels) : null;
    }

    public int Stride { get; }
    public int Padding { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>An addition to the output that leaves the weights alone (a LoRA being trained); null: none.</summary>
    public ILayerAdapter? Adapter { get; set; }

    public Tensor Forward(Tensor x)
    {
        Tensor y = F.Conv2d(x, Weight.Value, Bias?.Value, Stride, Padding, groups: Groups);
        return Adapter is null ? y : Adapter.Adapt(x, y);
    }
}

public sealed class GroupNorm : Module
{
    public GroupNorm(int groups, long channels, double eps = 1e-5, bool affine = true)
    {
        Groups = groups;
        Eps = eps;
        Weight = affine ? Param("weight", channels) : null;
        Bias = affine ? Param("bias", channels) : null;
    }

    public int Groups { get; }
    public double Eps { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }

    public Tensor Forward(Tensor x)
    {
        if (Weight is null || x.DType == Weight.Value.DType) return F.GroupNorm(x, Groups, Weight?.Value, Bias?.Value, Eps);
        // A bf16 activation from an autocast matmul meets float32 affine weights: normalise in the weights' precision.
        using Tensor cast = x.To(Weight.Value.DType);
        return F.GroupNorm(cast, Groups, Weight.Value, Bias?.Value, Eps);
    }
}

public sealed class LayerNorm : Module
{
    private readonly long _features;

    public LayerNorm(long features, double eps = 1e-5, bool affine = true)
    {
        _features = features;
        Eps = eps;
        Weight = affine ? Param("weight", features) : null;
        Bias = affine ? Param("bias", features) : null;
    }

    public double Eps { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }

    public Tensor Forward(Tensor x)
    {
        if (Weight is null || x.DType == Weight.Value.DType) return F.LayerNorm(x, [_features], Weight?.Value, Bias?.Value, Eps);
        // As GroupNorm: under autocast, normalise in the weights' precision.
        using Tensor cast = x.To(Weight.Value.DType);
        return F.LayerNorm(cast, [_features], Weight.Value, Bias?.Value, Eps);
    }
}

/// <summary>A lookup table of vectors; weight [count, dim].</summary>
public sealed class Embedding : Module
{
    public Embedding(long count, long dim) => Weight = Param("weight", count, dim);

    public Parameter Weight { get; }

    /// <summary>Rows of the table for int64 ids of any shape; the result has one more dim.</summary>
    public Tensor Forward(Tensor ids)
    {
        using var scope = Torch.NewScope();
        long[] shape = [.. ids.Shape, Weight.Shape[1]];
        return Weight.Value.IndexSelect(0, ids.Reshape(-1)).Reshape(shape).MoveToOuterScope();
    }
}
