namespace CharacterGen.Diffusion.Onnx;

/// <summary>
/// One input or output a model must have: a name from <see cref="Names"/> (any name when null: then it is matched by
/// position, as InsightFace does for its detectors' unnamed outputs) and one of the ranks in <see cref="Ranks"/>.
/// </summary>
public sealed record OnnxTensorSpec(string Role, IReadOnlyList<string>? Names, params int[] Ranks)
{
    public string Describe() =>
        (Names is null ? Role : string.Join(" or ", Names.Select(n => $"'{n}'"))) + " of rank " + string.Join(" or ", Ranks);
}

/// <summary>What a node accepts as a model file: exactly these inputs and outputs, float32, with these names and ranks.</summary>
/// <param name="Kind">What the model is, for errors ("Depth Anything depth estimator").</param>
public sealed record OnnxModelSpec(string Kind, IReadOnlyList<OnnxTensorSpec> Inputs, IReadOnlyList<OnnxTensorSpec> Outputs);

/// <summary>A declared input or output of a loaded model; -1 marks a dynamic dimension.</summary>
public sealed record OnnxTensorInfo(string Name, long[] Dimensions)
{
    public override string ToString() =>
        Name + "[" + string.Join(", ", Dimensions.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}

/// <summary>A float32 tensor going into or coming out of a model, row-major.</summary>
public sealed record OnnxTensor(float[] Data, long[] Shape)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}
