using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// The tensors of a LoRA file, as stored (dtype and names untouched), on the CPU. <see cref="Identity"/> names the file
/// content (path, size, write time), so a patch set can be recognised across jobs without comparing tensors.
/// </summary>
public sealed class LoraFile : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    public LoraFile(string identity, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        Identity = identity;
        _tensors = new(StringComparer.Ordinal);
        foreach (var (name, t) in tensors) _tensors[name] = t.DetachFromScope();
        Format = DetectFormat(_tensors.Keys);
    }

    public string Identity { get; }

    public LoraFormat Format { get; }

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>Reads every tensor of a .safetensors LoRA (pickle files are never loaded).</summary>
    public static LoraFile Load(string path)
    {
        string full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        using var file = SafetensorsFile.Open(full);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (SafetensorsEntry e in file.Entries) tensors.Add(new(e.Name, file.LoadTensor(e.Name).DetachFromScope()));
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        return new LoraFile($"{full}|{info.Length}|{info.LastWriteTimeUtc.Ticks}", tensors);
    }

    /// <summary>The naming scheme of most entries (LoCon when any kohya entry has a mid core).</summary>
    public static LoraFormat DetectFormat(IEnumerable<string> names)
    {
        var counts = new Dictionary<LoraFormat, int>();
        foreach (string name in names)
        {
            if (name.EndsWith(".lora_mid.weight", StringComparison.Ordinal)) return LoraFormat.LycorisLoCon;
            foreach (var s in LoraSuffixes.UpDown)
                if (name.EndsWith(s.Up, StringComparison.Ordinal))
                {
                    counts[s.Format] = counts.GetValueOrDefault(s.Format) + 1;
                    break;
                }
        }
        return counts.Count == 0 ? LoraFormat.Unknown : counts.MaxBy(p => p.Value).Key;
    }

    public void Dispose()
    {
        foreach (Tensor t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
