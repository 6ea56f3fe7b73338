using CharacterGen.Diffusion.Text;
using CharacterGen.Nodes.Files;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Nodes.ModelCaching;

/// <summary>
/// Textual-inversion embeddings from <c>models/embeddings/</c> for <c>embedding:name</c> in prompts (ComfyUI
/// load_embed): <c>name</c>, <c>name.safetensors</c> or <c>name.sft</c>, resolved inside the folder. The vectors are the
/// file's <c>clip_l</c> tensor (SDXL-style files; <c>clip_g</c> for SDXL's second encoder, as ComfyUI's embedding_key),
/// its <c>emb_params</c>, its <c>string_to_param.*</c> tensor, or its only (first) tensor, shaped [count, width].
/// Pickle files (.pt, .bin) are never loaded.
/// </summary>
public sealed class EmbeddingFolder(ModelFolders folders) : IEmbeddingLookup
{
    public const string ClipL = "clip_l";
    public const string ClipG = "clip_g";

    private static readonly string[] Extensions = ["", ".safetensors", ".sft"];

    public int? VectorCount(string name) => Find(name) is { } found ? (int)Rows(found.Entry.Shape) : null;

    /// <summary>The embedding's vectors [count, width] as float32 on the CPU (owned by the caller's scope).</summary>
    /// <exception cref="FileNotFoundException">There is no embedding of that name.</exception>
    public Tensor Vectors(string name, string key = ClipL)
    {
        var (path, entry) = Find(name, key) ?? throw new FileNotFoundException($"no embedding named '{name}' in embeddings/");
        using var file = SafetensorsFile.Open(path);
        using var scope = Torch.NewScope();
        Tensor t = file.LoadTensor(entry.Name, DType.Float32);
        return t.Reshape(Rows(entry.Shape), entry.Shape[^1]).MoveToOuterScope();
    }

    private (string Path, SafetensorsEntry Entry)? Find(string name, string key = ClipL)
    {
        foreach (string ext in Extensions)
        {
            string path;
            try
            {
                path = folders.Resolve("embeddings", name + ext);
            }
            catch (Exception e) when (e is FileNotFoundException or PathEscapeException)
            {
                continue;
            }
            if (!ModelFolders.WeightExtensions.Contains(Path.GetExtension(path))) continue;
            using var file = SafetensorsFile.Open(path);
            SafetensorsEntry? entry = Pick(file, key);
            if (entry is not null) return (path, entry);
        }
        return null;
    }

    private static SafetensorsEntry? Pick(SafetensorsFile file, string preferred)
    {
        foreach (string key in (string[])[preferred, "emb_params"])
            if (file.TryGet(key, out var e)) return e;
        return file.Entries.FirstOrDefault(e => e.Name.StartsWith("string_to_param.", StringComparison.Ordinal))
            ?? file.Entries.FirstOrDefault();
    }

    private static long Rows(long[] shape) => shape.Length <= 1 ? 1 : shape[..^1].Aggregate(1L, (a, b) => a * b);
}
