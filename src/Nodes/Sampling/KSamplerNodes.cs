using CharacterGen.Diffusion.Sampling;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Sampling;

/// <summary>KSampler and KSamplerAdvanced: CFG sampling of a latent with the SD UNet.</summary>
internal static class KSamplerNodes
{
    public static IEnumerable<NodeDefinition> Definitions() => [KSamplerNode, KSamplerAdvanced];

    private static NodeDefinition KSamplerNode { get; } = new NodeBuilder("KSampler")
        .DisplayName("KSampler").Category("sampling")
        .Description("Uses the provided model, positive and negative conditioning to denoise the latent image.")
        .Required(InputSpec.Link("model", IoTypes.Model) with { Tooltip = "The model used for denoising the input latent." })
        .Required(InputSpec.Seed("seed") with { Tooltip = "The random seed used for creating the noise." })
        .Required(InputSpec.Int("steps", 20, 1, 10000) with { Tooltip = "The number of steps used in the denoising process." })
        .Required(Cfg())
        .Required(SamplerName())
        .Required(SchedulerName())
        .Required(InputSpec.Link("positive", IoTypes.Conditioning) with { Tooltip = "The conditioning describing the attributes you want to include in the image." })
        .Required(InputSpec.Link("negative", IoTypes.Conditioning) with { Tooltip = "The conditioning describing the attributes you want to exclude from the image." })
        .Required(InputSpec.Link("latent_image", IoTypes.Latent) with { Tooltip = "The latent image to denoise." })
        .Required(InputSpec.Float("denoise", 1.0, 0.0, 1.0, 0.01) with { Tooltip = "The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling." })
        .Output(IoTypes.Latent, tooltip: "The denoised latent.")
        .EstimateMemory(SamplingMemory)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Sample(ctx, i, new KSamplerSettings
        {
            Seed = i.Seed("seed"),
            Steps = i.Int("steps"),
            SamplerName = i.Get<string>("sampler_name"),
            SchedulerName = i.Get<string>("scheduler"),
            Denoise = i.Get<double>("denoise"),
        })))
        .Build();

    private static NodeDefinition KSamplerAdvanced { get; } = new NodeBuilder("KSamplerAdvanced")
        .DisplayName("KSampler (Advanced)").Category("sampling")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Combo("add_noise", ["enable", "disable"]))
        .Required(InputSpec.Seed("noise_seed"))
        .Required(InputSpec.Int("steps", 20, 1, 10000))
        .Required(Cfg())
        .Required(SamplerName())
        .Required(SchedulerName())
        .Required(InputSpec.Link("positive", IoTypes.Conditioning))
        .Required(InputSpec.Link("negative", IoTypes.Conditioning))
        .Required(InputSpec.Link("latent_image", IoTypes.Latent))
        .Required(InputSpec.Int("start_at_step", 0, 0, 10000))
        .Required(InputSpec.Int("end_at_step", 10000, 0, 10000))
        .Required(InputSpec.Combo("return_with_leftover_noise", ["disable", "enable"]))
        .Output(IoTypes.Latent)
        .EstimateMemory(SamplingMemory)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Sample(ctx, i, new KSamplerSettings
        {
            Seed = i.Seed("noise_seed"),
            Steps = i.Int("steps"),
            SamplerName = i.Get<string>("sampler_name"),
            SchedulerName = i.Get<string>("scheduler"),
            AddNoise = i.Get<string>("add_noise") == "enable",
            StartStep = i.Int("start_at_step"),
            EndStep = i.Int("end_at_step"),
            ReturnWithLeftoverNoise = i.Get<string>("return_with_leftover_noise") == "enable",
        })))
        .Build();

    public static InputSpec Cfg() => InputSpec.Float("cfg", 8.0, 0.0, 100.0, 0.1, 0.01) with
    {
        Tooltip = "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.",
    };

    // Only implemented samplers are offered, so an unknown or missing one fails validation (value_not_in_list).
    public static InputSpec SamplerName() => InputSpec.Combo("sampler_name", Samplers.ImplementedNames) with
    {
        Tooltip = "The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.",
    };

    public static InputSpec SchedulerName() => InputSpec.Combo("scheduler", Schedulers.ImplementedNames) with
    {
        Tooltip = "The scheduler controls how noise is gradually removed to form the image.",
    };

    private static LatentValue Sample(NodeContext ctx, NodeInputs i, KSamplerSettings settings)
    {
        var model = i.Value<ModelValue>("model");
        var latent = i.Value<LatentValue>("latent_image");
        var guider = new CfgGuider<ConditioningValue>(new UnetDenoiser(model),
            i.Value<ConditioningValue>("positive"), i.Value<ConditioningValue>("negative"), i.Get<double>("cfg"));
        // Sampling runs where the weights are; the LATENT itself lives on the CPU (ComfyUI's intermediate device).
        Tensor samples = KSampler.Sample(guider, model.ModelSampling, model.LatentFormat,
            latent.Samples.To(model.Device, DType.Float32), settings, latent.NoiseMask?.To(model.Device),
            latent.BatchIndex, SamplingProgress.Callback(ctx, model.LatentFormat));
        return latent.WithSamples(samples.To(Device.Cpu, DType.Float32));
    }

    /// <summary>A sampler's peak memory from its latent's shape (<see cref="MemoryCosts.Sampling"/>); the output has the same shape.</summary>
    internal static MemoryEstimate SamplingMemory(MemoryEstimateContext m) =>
        m.Upstream<LatentShape>("latent_image") is { } latent
            ? new MemoryEstimate(MemoryCosts.Sampling(latent), [latent, latent])
            : MemoryEstimate.Unknown;
}

/// <summary>Per-step progress (value = step + 1, max = steps), with a latent preview when enabled; a cancellation point.</summary>
internal static class SamplingProgress
{
    public static SamplerCallback Callback(NodeContext ctx, LatentFormat? format = null)
    {
        int interval = LatentPreview.IntervalFor(ctx);
        return (step, total, _, denoised) =>
        {
            byte[]? preview = interval > 0 && (step % interval == 0 || step == total - 1) ? LatentPreview.Png(denoised, format) : null;
            ctx.ReportProgress(step + 1, total, preview);
        };
    }
}
