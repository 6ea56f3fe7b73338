using System.Diagnostics;
using System.Text.Json;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// The UNet part of bench/gpu/run.sh: seconds per UNet step with CFG (one forward at batch 2) for each dtype, then
/// optionally a whole sampling run (STEPS Euler steps with CFG, then VAE decode) in the last dtype. Random weights,
/// initialised once on the CPU (as the PyTorch side does) and cast per dtype. Prints one JSON object per measurement
/// as it finishes, so a run cut short still leaves its results. Usage:
/// <c>gpu unet CONFIG LATENT RUNS DEVICE DTYPE[,DTYPE…] [STEPS]</c>, CONFIG one of sd15, sdxl, sd15-tiny, sdxl-tiny.
/// </summary>
internal static class GpuUnet
{
    public static UnetConfig Config(string name) => name switch
    {
        "sd15" => UnetConfig.Sd15,
        "sdxl" => UnetConfig.Sdxl,
        // The CPU rehearsal's shapes: every block kind of the real network, a fraction of the width and depth.
        "sd15-tiny" => UnetConfig.Sd15 with { ModelChannels = 64, ContextDim = 128 },
        "sdxl-tiny" => UnetConfig.Sdxl with { ModelChannels = 64, TransformerDepth = [0, 1, 2], TransformerDepthMiddle = 2, ContextDim = 256, AdmInChannels = 256 },
        _ => throw new ArgumentException($"unknown config {name}: sd15, sdxl, sd15-tiny or sdxl-tiny"),
    };

    public static void Run(string configName, int latent, int runs, Device device, DType[] dtypes, int steps)
    {
        UnetConfig config = Config(configName);
        using var unet = new UnetModel(config);
        var init = Stopwatch.StartNew();
        BenchWeights.Initialize(unet, seed: 0);
        Report("init", configName, latent, device, DType.Float32, new() { ["s"] = init.Elapsed.TotalSeconds });

        using var inference = Autograd.InferenceMode();
        using var g = new Generator(1);
        using var scope = Torch.NewScope();
        Tensor x = Torch.Randn([2, config.InChannels, latent, latent], g), t = Torch.Full([2], 500);
        Tensor ctx = Torch.Randn([2, 77, config.ContextDim], g);
        Tensor? y = config.AdmInChannels is int adm ? Torch.Randn([2, adm], g) : null;
        foreach (DType dtype in dtypes)
        {
            unet.To(device, dtype);
            ResetMemory(device);
            using var step = Torch.NewScope();
            Tensor xd = x.To(device, dtype), td = t.To(device), cd = ctx.To(device, dtype), yd = y?.To(device, dtype)!;
            unet.Forward(xd, td, cd, yd); // warm-up: kernel selection, allocator growth
            Sync(device);
            var sw = Stopwatch.StartNew();
            Tensor last = xd;
            for (int i = 0; i < runs; i++)
            {
                using var s = Torch.NewScope();
                last = unet.Forward(xd, td, cd, yd).MoveToOuterScope();
            }
            Sync(device);
            double seconds = sw.Elapsed.TotalSeconds / runs;
            bool finite = last.IsFinite().LogicalNot().Sum().Item() == 0;
            Report("unet_step", configName, latent, device, dtype, Memory(device, new() { ["s_per_step"] = seconds, ["finite"] = finite ? 1 : 0 }));
        }
        if (steps > 0) Generate(unet, configName, latent, steps, device, dtypes[^1], x, ctx, y);
    }

    /// <summary>
    /// Euler with CFG (cond and uncond as one batch-2 forward) over a Karras-free linear σ ramp, then VAE decode. The
    /// schedule's values do not change the work done per step, which is what is timed.
    /// </summary>
    private static void Generate(UnetModel unet, string configName, int latent, int steps, Device device, DType dtype,
        Tensor noise, Tensor context, Tensor? adm)
    {
        using var vae = new AutoencoderKL(configName.EndsWith("-tiny", StringComparison.Ordinal) ? VaeConfig.KlF8 with { Ch = 32 } : VaeConfig.KlF8);
        BenchWeights.Initialize(vae, seed: 2);
        vae.To(device, dtype);
        ResetMemory(device);
        using var scope = Torch.NewScope();
        Tensor ctx = context.To(device, dtype), y = adm?.To(device, dtype)!;
        Tensor x = noise.Narrow(0, 0, 1).To(device, dtype) * 14.6;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            using var s = Torch.NewScope();
            double sigma = 14.6 * (1 - (double)i / steps), next = 14.6 * (1 - (double)(i + 1) / steps);
            Tensor batch = Torch.Cat([x, x]) * (1 / Math.Sqrt(sigma * sigma + 1));
            Tensor eps = unet.Forward(batch, Torch.Full([2], 999.0 * (1 - (double)i / steps), DType.Float32, device), ctx, y);
            Tensor[] parts = eps.Chunk(2, 0);
            Tensor guided = parts[1] + (parts[0] - parts[1]) * 7.0;
            x = (x + guided * (next - sigma)).MoveToOuterScope();
        }
        Sync(device);
        double sampling = total.Elapsed.TotalSeconds;
        var decode = Stopwatch.StartNew();
        Tensor image = vae.Decode(x * (1 / 0.13025));
        Sync(device);
        double decodeSeconds = decode.Elapsed.TotalSeconds;
        bool finite = image.IsFinite().LogicalNot().Sum().Item() == 0;
        Report("generate", configName, latent, device, dtype, Memory(device, new()
        {
            ["steps"] = steps, ["s_sampling"] = sampling, ["s_vae_decode"] = decodeSeconds,
            ["s_total"] = total.Elapsed.TotalSeconds, ["finite"] = finite ? 1 : 0,
        }));
    }

    private static void Sync(Device device)
    {
        if (device.IsCuda) Cuda.Synchronize(device.Index);
    }

    private static void ResetMemory(Device device)
    {
        if (device.IsCuda) Cuda.EmptyCache();
    }

    // Host: the process's peak resident set. CUDA: the caching allocator's reservation, emptied before each
    // measurement and never released during it, so it is that measurement's peak.
    private static Dictionary<string, double> Memory(Device device, Dictionary<string, double> values)
    {
        values["peak_host_bytes"] = Process.GetCurrentProcess().PeakWorkingSet64;
        if (device.IsCuda) values["cuda_reserved_bytes"] = Cuda.Memory(device.Index).Reserved;
        return values;
    }

    private static void Report(string what, string config, int latent, Device device, DType dtype, Dictionary<string, double> values)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("side", "charactergen");
            json.WriteString("what", what);
            json.WriteString("config", config);
            json.WriteNumber("latent", latent);
            json.WriteString("device", device.ToString());
            json.WriteString("dtype", dtype.TorchName());
            foreach (var (k, v) in values) json.WriteNumber(k, v);
            json.WriteEndObject();
        }
        Console.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        Console.Out.Flush();
    }
}
