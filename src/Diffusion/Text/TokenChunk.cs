using System.Collections;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// One CLIP input window (77 positions for SD): start token, up to 75 prompt tokens, end token, padding. A prompt that
/// needs more becomes several chunks, encoded separately and concatenated by the text encoder.
/// </summary>
public sealed class TokenChunk(IReadOnlyList<PromptToken> tokens) : IReadOnlyList<PromptToken>
{
    private readonly PromptToken[] _tokens = tokens.ToArray();

    public int Count => _tokens.Length;
    public PromptToken this[int index] => _tokens[index];

    /// <summary>Token ids by position; embedding positions hold <see cref="PromptToken.EmbeddingTokenId"/>.</summary>
    public int[] TokenIds() => _tokens.Select(t => t.TokenId).ToArray();

    public double[] Weights() => _tokens.Select(t => t.Weight).ToArray();

    /// <summary>Whether any position is weighted (ComfyUI then also encodes the empty prompt to weight against).</summary>
    public bool HasWeights => _tokens.Any(t => t.Weight != 1.0);

    public bool HasEmbeddings => _tokens.Any(t => t.IsEmbedding);

    public IEnumerator<PromptToken> GetEnumerator() => ((IEnumerable<PromptToken>)_tokens).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', _tokens);
}
