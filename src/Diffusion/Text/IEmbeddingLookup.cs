namespace CharacterGen.Diffusion.Text;

/// <summary>
/// Finds textual-inversion embeddings for <c>embedding:name</c> in prompts, as ComfyUI's <c>load_embed</c> finds
/// <c>models/embeddings/name(.safetensors|.pt|.bin)</c>. The tokenizer only needs how many vectors an embedding has
/// (each takes one token position); the text encoder fetches the vectors themselves, [count, width], by name.
/// Implementations must keep names inside their folder (ComfyUI refuses paths that leave it).
/// </summary>
public interface IEmbeddingLookup
{
    /// <summary>The number of vectors of the embedding, or null when there is none of that name.</summary>
    int? VectorCount(string name);
}
