using System.Runtime.InteropServices;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.RandomWeights;

/// <summary>
/// Writes random-weight checkpoints in the real single-file key layout, for tests and demos: deterministic from the
/// seed, weights scaled by 1/√fan-in (norm weights near 1, small biases) so activations stay O(1).
/// </summary>
public static class TestCheckpoints
{
    /// <summary>A tiny SD1.5-layout checkpoint with its configuration in the metadata.</summary>
    public static void WriteSd15(string path, ulong seed = 0, TinySizes? sizes = null, DType dtype = DType.Float32) =>
        Write(path, (sizes ?? TinySizes.Default).ToConfig(), seed, dtype);

    /// <summary>A tiny SDXL-layout checkpoint (UNet with label_emb, clip_l, OpenCLIP clip_g with text_projection, VAE).</summary>
    public static void WriteSdxl(string path, ulong seed = 0, DType dtype = DType.Float32) =>
        Write(path, TinySizes.SdxlConfig(), seed, dtype);

    /// <summary>
    /// A checkpoint of any configuration (SD2 family: OpenCLIP text keys; SDXL: "conditioner.embedders.{0,1}."), random weights drawn in order from one
    /// generator seeded with <paramref name="seed"/>. <paramref name="withMetadata"/> stores the configuration.
    /// </summary>
    public static void Write(string path, CheckpointConfig config, ulong seed = 0, DType dtype = DType.Float32, bool withMetadata = true)
    {
        using var scope = Torch.NewScope();
        using var generator = new Generator(seed);
        var tensors = Layout(config)
            .Select(e => new KeyValuePair<string, Tensor>(e.Key, Initial(e.Key, e.Shape, generator).To(dtype)))
            .ToList();
        SafetensorsTensors.Save(path, tensors, withMetadata ? Metadata(config, $"random weights, seed {seed}") : null);
    }

    /// <summary>
    /// Fills every parameter of a built network with the same random initialisation the writers use, in memory (for
    /// full-size networks that would be too large to write, e.g. the 2.6 B-parameter SDXL UNet). float32 on the CPU.
    /// </summary>
    public static void Initialize(Module module, ulong seed = 0)
    {
        using var generator = new Generator(seed);
        foreach (var (name, p) in module.NamedParameters())
        {
            using var scope = Torch.NewScope();
            p.Set(Initial(name, p.Shape, generator));
        }
    }

    /// <summary>A VAE file (keys without "first_stage_model."), as in ComfyUI's models/vae folder.</summary>
    public static void WriteVae(string path, VaeConfig? config = null, ulong seed = 0, DType dtype = DType.Float32)
    {
        config ??= TinySizes.Default.Vae;
        using var scope = Torch.NewScope();
        using var generator = new Generator(seed);
        using var vae = new AutoencoderKL(config);
        var tensors = vae.NamedParameters()
            .Select(p => new KeyValuePair<string, Tensor>(p.Key, Initial(p.Key, p.Value.Shape, generator).To(dtype)))
            .ToList();
        SafetensorsTensors.Save(path, tensors, Metadata(new CheckpointConfig { Vae = config }, $"random VAE weights, seed {seed}"));
    }

    /// <summary>
    /// A checkpoint with the real SD1.5 names and shapes (UNet 860M, CLIP-L 123M, VAE 84M parameters; about 2.1 GB)
    /// in float16 and without configuration metadata, so loading it exercises detection. To be fast, values cycle
    /// through one block of 2²⁰ normal samples (rotated per tensor) instead of drawing a billion.
    /// </summary>
    public static void WriteFullSizeSd15(string path, ulong seed = 0)
    {
        const int BlockSize = 1 << 20, Rotations = 7919;
        float[] normal;
        using (Torch.NewScope()) normal = Torch.Randn([BlockSize + Rotations], seed).ToArray<float>();
        var config = new CheckpointConfig { Family = "sd1", Unet = UnetConfig.Sd15, Clip = ClipTextConfig.ClipL, Vae = VaeConfig.KlF8 };
        var layout = Layout(config).ToList();
        var index = layout.Select((e, i) => (e.Key, i)).ToDictionary(p => p.Key, p => p.i);
        var buffer = new Half[BlockSize];
        SafetensorsWriter.Write(path, layout.Select(e => new SafetensorsTensorInfo(e.Key, SafetensorsDType.F16, e.Shape)),
            (info, stream) =>
            {
                long n = info.Shape.Aggregate(1L, (a, b) => a * b);
                int chunk = (int)Math.Min(n, BlockSize), start = index[info.Name] * 31 % Rotations;
                var (scale, offset) = Scale(info.Name, info.Shape);
                for (int j = 0; j < chunk; j++) buffer[j] = (Half)(normal[start + j] * scale + offset);
                ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(buffer.AsSpan(0, chunk));
                for (long done = 0; done < n; done += chunk) stream.Write(bytes[..(int)(Math.Min(chunk, n - done) * 2)]);
            });
    }

    /// <summary>
    /// Names and shapes of a checkpoint in the single-file layout, in module order: "model.diffusion_model." UNet,
    /// the text encoder (SD1: "cond_stage_model.transformer.text_model."; SD2: OpenCLIP "cond_stage_model.model." with
    /// fused in_proj; SDXL: clip_l under "conditioner.embedders.0.transformer.text_model." and OpenCLIP clip_g under
    /// "conditioner.embedders.1.model."), "first_stage_model." VAE. Sections whose configuration is null are left out.
    /// </summary>
    public static IEnumerable<(string Key, long[] Shape)> Layout(CheckpointConfig config)
    {
        if (config.Unet is { } u)
        {
            using var unet = new UnetModel(u);
            foreach (var (name, p) in unet.NamedParameters(CheckpointLoader.UnetPrefix)) yield return (name, p.Shape);
        }
        bool sdxl = config.Family == "sdxl";
        if (config.Clip is { } c)
        {
            var layout = config.Family == "sd2" ? OpenClipLayout.Map
                : (Func<string, WeightRef>)(name => new((sdxl ? CheckpointLoader.SdxlClipLPrefix : CheckpointLoader.ClipPrefix) + name));
            foreach (var entry in TextLayout(c, layout)) yield return entry;
        }
        if (sdxl && config.ClipG is { } g)
        {
            foreach (var entry in TextLayout(g, OpenClipLayout.Mapper(CheckpointLoader.SdxlClipGPrefix))) yield return entry;
        }
        if (config.Vae is { } v)
        {
            using var vae = new AutoencoderKL(v);
            foreach (var (name, p) in vae.NamedParameters(CheckpointLoader.VaePrefix)) yield return (name, p.Shape);
        }
    }

    // Fused OpenCLIP in_proj tensors appear once, with their stored shape.
    private static IEnumerable<(string Key, long[] Shape)> TextLayout(ClipTextConfig config, Func<string, WeightRef> map)
    {
        using var clip = new ClipTextModel(config);
        var seen = new HashSet<string>();
        foreach (var (name, p) in clip.NamedParameters())
        {
            WeightRef r = map(name);
            if (seen.Add(r.Key)) yield return (r.Key, r.StoredShape(p.Shape));
        }
    }

    private static Tensor Initial(string key, long[] shape, Generator generator)
    {
        var (scale, offset) = Scale(key, shape);
        return Torch.Randn(shape, generator) * scale + offset;
    }

    // Norm weights 1 + 0.1·n, biases 0.1·n, embeddings 0.5·n, other weights n/√fan-in.
    private static (float Scale, float Offset) Scale(string key, long[] shape)
    {
        if (key.EndsWith("bias", StringComparison.Ordinal)) return (0.1f, 0);
        if (shape.Length == 1) return (0.1f, 1);
        if (key.Contains("embedding", StringComparison.Ordinal)) return (0.5f, 0);
        return ((float)(1 / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b))), 0);
    }

    private static Dictionary<string, string> Metadata(CheckpointConfig config, string what) => new()
    {
        [CheckpointConfig.MetadataKey] = config.ToJson(),
        ["charactergen.test_checkpoint"] = what,
    };
}
