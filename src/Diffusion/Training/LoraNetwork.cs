using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// The trainable LoRA of a UNet: one <see cref="LoraAdapter"/> per targeted layer, attached through the layers'
/// adapter slot so the frozen weights are never patched. Disposing detaches every adapter and frees its tensors.
/// </summary>
public sealed class LoraNetwork : IDisposable
{
    private readonly List<(Module Layer, LoraAdapter Adapter)> _adapters = [];
    private readonly KohyaLoraNames _names;

    public LoraNetwork(UnetModel unet, ModelFamily family, LoraTargets targets, int rank, double alpha, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        Rank = rank;
        Alpha = alpha;
        Targets = targets;
        _names = new KohyaLoraNames(unet.Config, family);
        using var generator = new Generator(seed);
        try
        {
            foreach (var (name, module) in unet.NamedModules())
            {
                if (!Targeted(name, module, targets)) continue;
                LoraAdapter adapter = module switch
                {
                    Linear l => LoraAdapter.ForLinear(name, l, rank, alpha, generator),
                    Conv2d c => LoraAdapter.ForConv(name, c, rank, alpha, generator),
                    _ => throw new InvalidOperationException($"cannot adapt {module.GetType().Name}"),
                };
                SetAdapter(module, adapter);
                _adapters.Add((module, adapter));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        if (_adapters.Count == 0) throw new ArgumentException($"the UNet has no layers for LoRA targets '{targets}'");
    }

    public int Rank { get; }
    public double Alpha { get; }
    public LoraTargets Targets { get; }

    public IReadOnlyList<LoraAdapter> Adapters => _adapters.Select(a => a.Adapter).ToList();

    /// <summary>Every trainable tensor, down then up per adapter, in a fixed order (the optimizer's and the checkpoint's).</summary>
    public IReadOnlyList<Tensor> Parameters => _adapters.SelectMany(a => new[] { a.Adapter.Down, a.Adapter.Up }).ToList();

    /// <summary>The weights in kohya's format: "lora_unet_….lora_down.weight", ".lora_up.weight" and ".alpha" (float32, CPU copies).</summary>
    public List<KeyValuePair<string, Tensor>> KohyaTensors()
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        static Tensor Copy(Tensor t) => t.Detach().To(Device.Cpu, DType.Float32).Clone().DetachFromScope();
        foreach (var (_, a) in _adapters)
        {
            string key = _names.UnetKey(a.ModuleName);
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
        foreach (var (_, a) in _adapters)
        {
            string key = _names.UnetKey(a.ModuleName);
            a.Down.Copy_(Required(tensors, key + ".lora_down.weight", a.Down));
            a.Up.Copy_(Required(tensors, key + ".lora_up.weight", a.Up));
        }
    }

    public void Dispose()
    {
        foreach (var (layer, adapter) in _adapters)
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
