using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Diffusion.Text;
using CharacterGen.GraphRuntime.Observability;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.ModelCaching;

/// <summary>
/// Loaded weights shared by every job: a model file is read once and stays resident (in
/// <see cref="ModelCacheOptions.EffectiveWeightDType"/> on <see cref="ModelCacheOptions.Device"/>) until it is the least
/// recently used of more than <see cref="ModelCacheOptions.MaxLoaded"/> files, or <see cref="Free"/> unloads everything.
/// Files are keyed by full path plus a cheap content fingerprint (size and last-write time; a file rewritten in place
/// with the same size inside the file system's timestamp resolution would be missed, which we accept to avoid hashing
/// gigabytes). Callers get <see cref="ModelLease{T}"/>s: unloading drops the cache's reference and the weights go when
/// the last lease is disposed. Thread-safe.
/// </summary>
public sealed class ModelCache : IDisposable
{
    private readonly object _gate = new();
    private readonly object _loadGate = new();
    private readonly LinkedList<Entry> _lru = new(); // first = most recently used
    private readonly Dictionary<string, (FileFingerprint Fingerprint, ClipTokenizer Tokenizer)> _tokenizers = new(StringComparer.Ordinal);
    private readonly Telemetry? _telemetry;
    private long _loads;

    /// <param name="telemetry">Where hits, misses and load times are reported; null: nowhere.</param>
    public ModelCache(ModelCacheOptions? options = null, Telemetry? telemetry = null)
    {
        Options = options ?? ModelCacheOptions.Default;
        Options.Validate();
        _telemetry = telemetry;
    }

    public ModelCacheOptions Options { get; }

    /// <summary>How many times a model file has been read from disk (a cache hit does not count).</summary>
    public long LoadCount => Interlocked.Read(ref _loads);

    /// <summary>Full paths of the model files loaded now, most recently used first.</summary>
    public IReadOnlyList<string> Loaded
    {
        get { lock (_gate) return _lru.Select(e => e.Path).ToArray(); }
    }

    /// <summary>A lease on an SD1.x/SD2.x checkpoint (UNet, CLIP and VAE), loading it on first use.</summary>
    public ModelLease<StableDiffusionCheckpoint> Checkpoint(string path) =>
        Acquire("checkpoint", path, p => CheckpointLoader.Load(p, Options.EffectiveWeightDType, Options.Device));

    /// <summary>A lease on a VAE file (or a checkpoint's VAE part), loading it on first use.</summary>
    public ModelLease<AutoencoderKL> Vae(string path) =>
        Acquire("vae", path, p => CheckpointLoader.LoadVae(p, Options.EffectiveWeightDType, Options.Device));

    /// <summary>
    /// A lease on an ONNX Runtime session over an auxiliary model (depth estimator, face detector), refused unless it
    /// matches <paramref name="spec"/>. It runs on the cache's CUDA device when the onnxruntime library has the CUDA
    /// provider and <paramref name="preferCuda"/> allows it, else on the CPU (the reason is written to stderr once
    /// per load). Sessions count towards <see cref="ModelCacheOptions.MaxAuxiliaryLoaded"/>.
    /// </summary>
    public ModelLease<OnnxModel> Onnx(string path, OnnxModelSpec spec, bool preferCuda = true)
    {
        // ORT's intra-op pool gets libtorch's thread count (CHARACTERGEN_THREADS), so the operator's limit holds for both.
        var execution = new OnnxExecution(preferCuda && Options.Device.IsCuda ? Options.Device.Index : null, Torch.Threads);
        return Acquire("onnx-" + execution.CudaDevice, path, p =>
        {
            OnnxModel model = OnnxModel.Load(p, spec, execution);
            if (model.FallbackReason is string reason)
                Console.Error.WriteLine($"onnx: {Path.GetFileName(p)} runs on the CPU: {reason}");
            return model;
        });
    }

    /// <summary>A lease on a ControlNet file (LDM or diffusers layout), loading it on first use.</summary>
    public ModelLease<LoadedControlNet> ControlNet(string path) =>
        Acquire("controlnet", path, p => ControlNetLoader.Load(p, Options.EffectiveWeightDType, Options.Device));

    /// <summary>A lease on a CLIP vision encoder (models/clip_vision), loading it on first use.</summary>
    public ModelLease<ClipVisionModel> ClipVision(string path) =>
        Acquire("clip_vision", path, p => ClipVisionLoader.Load(p, Options.EffectiveWeightDType, Options.Device));

    /// <summary>A lease on an IP-Adapter file (models/ipadapter), loading it on first use.</summary>
    public ModelLease<IpAdapterModel> IpAdapter(string path) =>
        Acquire("ipadapter", path, p => IpAdapterModel.Load(p, Options.EffectiveWeightDType, Options.Device));

    /// <summary>The CLIP tokenizer for a checkpoint (<see cref="CheckpointTokenizer.Locate"/>), read again when its files change.</summary>
    /// <exception cref="TokenizerFilesNotFoundException">Neither place has it; the message names both.</exception>
    public ClipTokenizer TokenizerFor(string checkpointPath, string modelsRoot)
    {
        TokenizerSource source = CheckpointTokenizer.Locate(checkpointPath, modelsRoot);
        return CachedTokenizer(source.Folder, source.Files, source.Load);
    }

    /// <summary><c>checkpoints/NAME.safetensors</c> → <c>checkpoints/NAME.tokenizer</c>.</summary>
    public static string SiblingTokenizerFolder(string checkpointPath) => CheckpointTokenizer.SiblingFolder(checkpointPath);

    /// <summary>Unloads everything (ComfyUI's /free unload_models): weights go once no value holds a lease.</summary>
    public void Free()
    {
        List<Entry> dropped;
        lock (_gate)
        {
            dropped = [.. _lru];
            _lru.Clear();
            _tokenizers.Clear();
        }
        foreach (Entry e in dropped) e.Release();
        // Hand the freed blocks back to the driver, so device memory drops too (ComfyUI soft_empty_cache).
        if (Options.Device.IsCuda) Cuda.EmptyCache();
    }

    public void Dispose() => Free();

    private ModelLease<T> Acquire<T>(string kind, string path, Func<string, T> load) where T : class, IDisposable
    {
        string full = Path.GetFullPath(path);
        string key = kind + ":" + full;
        // One load at a time: a second job asking for the same file waits and then hits the cache.
        lock (_loadGate)
        {
            FileFingerprint fingerprint = FileFingerprint.Of(full);
            Entry? stale = null;
            lock (_gate)
            {
                for (var node = _lru.First; node is not null; node = node.Next)
                {
                    if (node.Value.Key != key) continue;
                    _lru.Remove(node);
                    if (node.Value.Fingerprint == fingerprint && node.Value.Shared is SharedModel<T> { IsAlive: true } hit)
                    {
                        _lru.AddFirst(node);
                        _telemetry?.ModelCacheHit(kind);
                        return hit.Acquire();
                    }
                    stale = node.Value; // the file changed: load it again
                    break;
                }
            }
            stale?.Release();

            SharedModel<T> shared;
            using (_telemetry?.StartModelLoad(kind, full)) shared = new SharedModel<T>(load(full), full);
            ModelLease<T> lease = shared.Acquire();
            Interlocked.Increment(ref _loads);
            var evicted = new List<Entry>();
            lock (_gate)
            {
                _lru.AddFirst(new Entry(key, full, fingerprint, shared, shared.Release));
                // Checkpoints and VAE files count against MaxLoaded; the smaller models that sit beside them in one
                // workflow (ControlNets, CLIP vision, IP-Adapters, ONNX sessions) against MaxAuxiliaryLoaded, so a story
                // frame's six files stay loaded from one frame to the next.
                bool auxiliary = IsAuxiliary(key);
                int limit = auxiliary ? Options.MaxAuxiliaryLoaded : Options.MaxLoaded;
                while (_lru.Count(e => IsAuxiliary(e.Key) == auxiliary) > limit)
                {
                    var last = _lru.Last;
                    while (IsAuxiliary(last!.Value.Key) != auxiliary) last = last.Previous;
                    evicted.Add(last.Value);
                    _lru.Remove(last);
                }
            }
            foreach (Entry e in evicted) e.Release();
            return lease;
        }
    }

    private ClipTokenizer CachedTokenizer(string folder, IReadOnlyList<string> files, Func<ClipTokenizer> load)
    {
        var fingerprint = FileFingerprint.OfAll(files);
        lock (_gate)
            if (_tokenizers.TryGetValue(folder, out var cached) && cached.Fingerprint == fingerprint) return cached.Tokenizer;
        ClipTokenizer tokenizer = load();
        lock (_gate) _tokenizers[folder] = (fingerprint, tokenizer);
        return tokenizer;
    }

    private static bool IsAuxiliary(string key) => !(key.StartsWith("checkpoint:", StringComparison.Ordinal) || key.StartsWith("vae:", StringComparison.Ordinal));

    private sealed record Entry(string Key, string Path, FileFingerprint Fingerprint, object Shared, Action Release);
}

/// <summary>A cheap stand-in for a file's content: its size and last-write time (combined over several files).</summary>
internal readonly record struct FileFingerprint(long Length, long LastWriteTicks)
{
    public static FileFingerprint Of(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"model file not found: {path}", path);
        return new(info.Length, info.LastWriteTimeUtc.Ticks);
    }

    public static FileFingerprint OfAll(IEnumerable<string> paths)
    {
        long length = 0, ticks = 0;
        foreach (string p in paths)
        {
            var info = new FileInfo(p);
            if (!info.Exists) continue;
            length = length * 31 + info.Length;
            ticks = ticks * 31 + info.LastWriteTimeUtc.Ticks;
        }
        return new(length, ticks);
    }
}
