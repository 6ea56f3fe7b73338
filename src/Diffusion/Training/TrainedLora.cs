using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// A finished LoRA training run: the weights in kohya's key format (CPU, float32; owned), the sd-scripts ss_* metadata,
/// and the loss of every optimizer step.
/// </summary>
public sealed class TrainedLora(List<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata,
    IReadOnlyList<double> losses, int steps) : IDisposable
{
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;
    public IReadOnlyList<double> Losses { get; } = losses;
    public int Steps { get; } = steps;

    /// <summary>Writes a .safetensors LoRA that kohya-compatible loaders (ours, ComfyUI, A1111) read as-is; atomic.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var metadata = new Dictionary<string, string>(Metadata, StringComparer.Ordinal);
        if (extraMetadata is not null)
            foreach (var (k, v) in extraMetadata) metadata[k] = v;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        CharacterGen.Tensors.Safetensors.SafetensorsTensors.Save(path, Tensors, metadata);
    }

    public void Dispose()
    {
        foreach (var (_, t) in Tensors) t.Dispose();
    }
}
