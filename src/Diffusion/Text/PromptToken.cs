namespace CharacterGen.Diffusion.Text;

/// <summary>
/// One position of a CLIP input: a vocabulary token id, or one vector of a textual-inversion embedding (then
/// <see cref="TokenId"/> is <see cref="EmbeddingTokenId"/>), with the prompt weight that applies to it.
/// </summary>
public readonly record struct PromptToken(int TokenId, double Weight, EmbeddingSlot? Embedding = null)
{
    /// <summary>The id an embedding position carries; the encoder puts the embedding's vector there instead.</summary>
    public const int EmbeddingTokenId = -1;

    public bool IsEmbedding => Embedding is not null;

    public static PromptToken ForEmbedding(EmbeddingSlot slot, double weight) => new(EmbeddingTokenId, weight, slot);

    public override string ToString() =>
        (Embedding is { } e ? $"{e.Name}[{e.VectorIndex}]" : TokenId.ToString()) + (Weight == 1.0 ? "" : $":{Weight}");
}

/// <summary>Row <paramref name="VectorIndex"/> of the textual-inversion embedding named <paramref name="Name"/>
/// (as written after <c>embedding:</c>, resolved by an <see cref="IEmbeddingLookup"/>).</summary>
public sealed record EmbeddingSlot(string Name, int VectorIndex);
