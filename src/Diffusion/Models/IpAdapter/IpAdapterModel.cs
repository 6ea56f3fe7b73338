using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// An IP-Adapter file: the image projection ("image_proj.*") and, per cross-attention layer n (odd, diffusers processor
/// order), the decoupled key/value projections "ip_adapter.{n}.to_k_ip/to_v_ip" [C, ctx].
/// </summary>
public sealed class IpAdapterModel : Module
{
    private readonly Dictionary<int, IpLayer> _layers = [];

    private IpAdapterModel(IpAdapterInfo info, Module projection, IReadOnlyList<(int Key, long Channels)> layers)
    {
        Info = info;
        Projection = (IImageProjection)Child("image_proj", projection);
        var ip = Child("ip_adapter", new IpLayers());
        foreach (var (key, channels) in layers) _layers[key] = ip.Add(key, new IpLayer(info.ContextDim, channels));
    }

    public IpAdapterInfo Info { get; }
    public IImageProjection Projection { get; }

    /// <summary>The key/value projections of layer number <paramref name="index"/> (0-based; file key 2·index+1).</summary>
    public IpLayer Layer(int index) => _layers[2 * index + 1];

    public int LayerCount => _layers.Count;

    /// <summary>Output width of layer <paramref name="index"/> (that attention layer's channel count).</summary>
    public long Channels(int index) => Layer(index).ToK.Weight.Shape[0];

    public static IpAdapterModel Load(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        string ipPrefix = shapes.Keys.Any(k => k.StartsWith("ip_adapter.", StringComparison.Ordinal)) ? "ip_adapter." : "adapter_modules.";
        IpAdapterInfo info = IpAdapterInfo.Detect(shapes, Path.GetFileName(path), ipPrefix);
        var layers = new List<(int, long)>();
        for (int n = 1; shapes.TryGetValue($"{ipPrefix}{n}.to_k_ip.weight", out long[]? k); n += 2) layers.Add((n, k[0]));
        var model = new IpAdapterModel(info, BuildProjection(info, shapes), layers);
        try
        {
            var binder = new WeightBinder(file);
            binder.Add(model.Part("image_proj"), "image_proj.");
            binder.Add(model.Part("ip_adapter"), ipPrefix);
            binder.Load(dtype, device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private Module Part(string name) => NamedModules().First(m => m.Key == name).Value;

    private static Module BuildProjection(IpAdapterInfo info, IReadOnlyDictionary<string, long[]> s)
    {
        long[] Get(string key) => s.TryGetValue("image_proj." + key, out long[]? v) ? v
            : throw new CheckpointLoadException($"IP-Adapter ({info.Kind}) weight 'image_proj.{key}' is missing");
        int ctx = info.ContextDim;
        switch (info.Kind)
        {
            case IpAdapterKind.FaceIdPlus or IpAdapterKind.FaceIdPlusV2:
            {
                long[] fc1 = Get("proj.0.weight");
                int normDim = (int)Get("norm.weight")[0];
                return new FaceIdPlusProjModel((int)fc1[1], (int)fc1[0], normDim, (int)(Get("proj.2.weight")[0] / normDim),
                    (int)Get("perceiver_resampler.proj_in.weight")[1], (int)Get("perceiver_resampler.layers.0.0.to_q.weight")[0]);
            }
            case IpAdapterKind.FaceId or IpAdapterKind.FaceIdPortrait:
            {
                long[] fc1 = Get("proj.0.weight");
                int normDim = (int)Get("norm.weight")[0];
                return new FaceIdProjModel((int)fc1[1], (int)fc1[0], normDim, (int)(Get("proj.2.weight")[0] / normDim));
            }
            case IpAdapterKind.FullFace:
                return new MlpProjModel((int)Get("proj.0.weight")[1], (int)Get("proj.2.weight")[0]);
            case IpAdapterKind.Plus:
            {
                long[] latents = Get("latents");
                int depth = 0;
                while (s.ContainsKey($"image_proj.layers.{depth}.0.to_q.weight")) depth++;
                return new Resampler((int)Get("proj_in.weight")[1], (int)latents[2], (int)Get("layers.0.0.to_q.weight")[0],
                    (int)Get("layers.0.1.1.weight")[0], (int)Get("proj_out.weight")[0], depth, (int)latents[1]);
            }
            default:
            {
                long[] proj = Get("proj.weight");
                int normDim = (int)Get("norm.weight")[0];
                if (normDim != ctx) throw new CheckpointLoadException($"IP-Adapter projection width {normDim} differs from its layers' context width {ctx}");
                return new ImageProjModel((int)proj[1], normDim, (int)(proj[0] / normDim));
            }
        }
    }

    /// <summary>"ip_adapter": children named by the file's layer numbers.</summary>
    private sealed class IpLayers : Module
    {
        public IpLayer Add(int key, IpLayer layer) => Child(key.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
    }
}

/// <summary>to_k_ip and to_v_ip of one cross-attention layer (bias-free, ctx → C).</summary>
public sealed class IpLayer : Module
{
    public IpLayer(int contextDim, long channels)
    {
        ToK = Child("to_k_ip", new Linear(contextDim, channels, bias: false));
        ToV = Child("to_v_ip", new Linear(contextDim, channels, bias: false));
    }

    public Linear ToK { get; }
    public Linear ToV { get; }
}
