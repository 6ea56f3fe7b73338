using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// The trainable LoRA of a UNet (or of a CLIP text encoder, <see cref="ForTextEncoder"/>): one <see cref="LoraAdapter"/>
/// per targeted layer, attached through the layers' adapter slot so the frozen weights are never patched. Disposing
/// detaches every adapter and frees its tensors.
/// </summary>
public sealed class LoraNetwork : IDisposable
{
    /// <summary>kohya's prefix for the (first) text encoder's modules, followed by the HF path under text_model.</summary>
    public const string TextEncoderPrefix = "lora_te_text_model_";

    private readonly List<(Module Layer, LoraAdapter Adapter, string Key)> _adapters = [];

    public LoraNetwork(UnetModel unet, ModelFamily family, LoraTargets targets, int rank, double alpha, ulong seed)
        : this(UnetLayers(unet, family, targets), rank, alpha, seed, $"the UNet has no layers for LoRA targets '{targets}'") =>
        Targets = targets;

    /// <summary>
    /// LoRA on every Linear of a CLIP text encoder's attention and MLP (q/k/v/out_proj, fc1, fc2: kohya's
    /// CLIPAttention and CLIPMLP targets), keyed "lora_te_text_model_encoder_layers_N_…".
    /// </summary>
    public static LoraNetwork ForTextEncoder(ClipTextModel clip, int rank, double alpha, ulong seed) =>
        new(clip.NamedModules().Where(m => m.Value is Linear && m.Key.StartsWith("encoder.layers.", StringComparison.Ordinal))
                .Select(m => (m.Key, TextEncoderPrefix + m.Key.Replace('.', '_'), m.Value)),
            rank, alpha, seed, "the text encoder has no encoder layers") { Targets = LoraTargets.All };

    private LoraNetwork(IEnumerable<(string Name, string Key, Module Layer)> layers, int rank, double alpha, ulong seed, string noneError)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        Rank = rank;
        Alpha = alpha;
        using var generator = new Generator(seed);
        try
        {
            foreach (var (name, key, module) in layers)
            {
                LoraAdapter adapter = module switch
                {
                    Linear l => LoraAdapter.ForLinear(name, l, rank, alpha, generator),
                    Conv2d c => LoraAdapter.ForConv(name, c, rank, alpha, generator),
                    _ => throw new InvalidOperationException($"cannot adapt {module.GetType().Name}"),
                };
                SetAdapter(module, adapter);
                _adapters.Add((module, adapter, key));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        if (_adapters.Count == 0) throw new ArgumentException(noneError);
    }

    private static IEnumerable<(string, string, Module)> UnetLayers(UnetModel unet, ModelFamily family, LoraTargets targets)
    {
        var names = new KohyaLoraNames(unet.Config, family);
        return unet.NamedModules().Where(m => Targeted(m.Key, m.Value, targets)).Select(m => (m.Key, names.UnetKey(m.Key), m.Value)).ToList();
    }

    public int Rank { get; }
    public double Alpha { get; }
    public LoraTargets Targets { get; private init; }

    public IReadOnlyList<LoraAdapter> Adapters => _adapters.Select(a => a.Adapter).ToList();

    /// <summary>Every trainable tensor, down then up per adapter, in a fixed order (the optimizer's and the checkpoint's).</summary>
    public IReadOnlyList<Tensor> Parameters => _adapters.SelectMany(a => new[] { a.Adapter.Down, a.Adapter.Up }).ToList();

    /// <summary>The weights in kohya's format: "lora_unet_…" (or "lora_te_…") + ".lora_down.weight", ".lora_up.weight" and ".alpha" (float32, CPU copies).</summary>
    public List<KeyValuePair<string, Tensor>> KohyaTensors()
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        static Tensor Copy(Tensor t) => t.Detach().To(Device.Cpu, DType.Float32).Clone().DetachFromScope();
        foreach (var (_, a, key) in _adapters)
        {
            result.Add(new(key + ".lora_down.weight", Copy(a.Down)));
            result.Add(new(key + ".lora_up.weight", Copy(a.Up)));
            result.Add(new(key + ".alpha", Torch.Scalar(a.Alpha).DetachFromScope()));
        }
        return result;
    }

    /// <summary>Overwrites the weights with those of a kohya-format LoRA of the same layout (to continue training).</summary>
    public void LoadKohyaTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var noGrad = Autograd.NoGrad();
        foreach (var (_, a, key) in _adapters)
        {
            a.Down.Copy_(Required(tensors, key + ".lora_down.weight", a.Down));
            a.Up.Copy_(Required(tensors, key + ".lora_up.weight", a.Up));
        }
    }

    public void Dispose()
    {
        foreach (var (layer, adapter, _) in _adapters)
        {
            SetAdapter(layer, null);
            adapter.Dispose();
        }
        _adapters.Clear();
    }

    private static Tensor Required(IReadOnlyDictionary<string, Tensor> tensors, string key, Tensor like)
    {
        if (!tensors.TryGetValue(key, out Tensor? t)) throw new KeyNotFoundException($"the LoRA has no '{key}'");
        if (!t.Shape.AsSpan().SequenceEqual(like.Shape))
            throw new ArgumentException($"'{key}' is [{string.Join(", ", t.Shape)}], this network needs [{string.Join(", ", like.Shape)}]");
        return t;
    }

    private static bool Targeted(string name, Module module, LoraTargets targets)
    {
        bool inTransformer = name.Contains(".transformer_blocks.", StringComparison.Ordinal)
            || name.EndsWith(".proj_in", StringComparison.Ordinal) || name.EndsWith(".proj_out", StringComparison.Ordinal);
        return targets switch
        {
            LoraTargets.Attention => module is Linear && IsAttentionProjection(name),
            LoraTargets.Transformer => inTransformer && (module is Linear || module is Conv2d { Weight.Shape: [_, _, 1, 1] }),
            LoraTargets.All => module is Linear || module is Conv2d { Groups: 1 },
            _ => false,
        };
    }

    private static bool IsAttentionProjection(string name) =>
        (name.Contains(".attn1.", StringComparison.Ordinal) || name.Contains(".attn2.", StringComparison.Ordinal))
        && (name.EndsWith(".to_q", StringComparison.Ordinal) || name.EndsWith(".to_k", StringComparison.Ordinal)
            || name.EndsWith(".to_v", StringComparison.Ordinal) || name.EndsWith(".to_out.0", StringComparison.Ordinal));

    private static void SetAdapter(Module layer, ILayerAdapter? adapter)
    {
        switch (layer)
        {
            case Linear l: l.Adapter = adapter; break;
            case Conv2d c: c.Adapter = adapter; break;
        }
    }
}
