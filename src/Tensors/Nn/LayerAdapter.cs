namespace CharacterGen.Tensors.Nn;

/// <summary>
/// Something added to a layer's output without touching its weights, such as a trainable LoRA branch: the layer
/// computes y = f(x) with its frozen weights, then returns <see cref="Adapt"/>(x, y). Attach with a layer's
/// <c>Adapter</c> property; null means the plain layer.
/// </summary>
public interface ILayerAdapter
{
    /// <summary>The adapted output for the layer input <paramref name="input"/> and its plain output <paramref name="output"/>.</summary>
    Tensor Adapt(Tensor input, Tensor output);
}
