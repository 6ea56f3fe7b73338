using CharacterGen.Diffusion.Sampling;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Sampling;

/// <summary>
/// ComfyUI's custom-sampler nodes (comfy_extras/nodes_custom_sampler.py): KSamplerSelect, BasicScheduler, RandomNoise,
/// DisableNoise, CFGGuider, BasicGuider and SamplerCustomAdvanced, which puts them together.
/// </summary>
internal static class CustomSamplerNodes
{
    private const string Module = "comfy_extras.nodes_custom_sampler";

    public static IEnumerable<NodeDefinition> Definitions() =>
        [KSamplerSelect, BasicScheduler, RandomNoise, DisableNoise, CfgGuider, BasicGuider, SamplerCustomAdvanced];

    private static NodeDefinition KSamplerSelect { get; } = new NodeBuilder("KSamplerSelect")
        .Category("sampling/custom_sampling/samplers").PythonModule(Module)
        .Required(KSamplerNodes.SamplerName() with { Tooltip = null })
        .Output(IoTypes.Sampler)
        .Execute((_, i) => NodeOutput.Of(Samplers.Get(i.Get<string>("sampler_name"))))
        .Build();

    private static NodeDefinition BasicScheduler { get; } = new NodeBuilder("BasicScheduler")
        .Category("sampling/custom_sampling/schedulers").PythonModule(Module)
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(KSamplerNodes.SchedulerName() with { Tooltip = null })
        .Required(InputSpec.Int("steps", 20, 1, 10000))
        .Required(InputSpec.Float("denoise", 1.0, 0.0, 1.0, 0.01))
        .Output(IoTypes.Sigmas)
        .Execute((_, i) => NodeOutput.Of(Schedulers.ForBasicScheduler(i.Value<ModelValue>("model").ModelSampling,
            i.Get<string>("scheduler"), i.Int("steps"), i.Get<double>("denoise"))))
        .Build();

    private static NodeDefinition RandomNoise { get; } = new NodeBuilder("RandomNoise")
        .Category("sampling/custom_sampling/noise").PythonModule(Module)
        .Required(InputSpec.Seed("noise_seed"))
        .Output(IoTypes.Noise)
        .Execute((_, i) => NodeOutput.Of(new NoiseValue(i.Seed("noise_seed"))))
        .Build();

    private static NodeDefinition DisableNoise { get; } = new NodeBuilder("DisableNoise")
        .Category("sampling/custom_sampling/noise").PythonModule(Module)
        .Output(IoTypes.Noise)
        .Execute((_, _) => NodeOutput.Of(new NoiseValue(0, Disabled: true)))
        .Build();

    private static NodeDefinition CfgGuider { get; } = new NodeBuilder("CFGGuider")
        .Category("sampling/custom_sampling/guiders").PythonModule(Module)
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Link("positive", IoTypes.Conditioning))
        .Required(InputSpec.Link("negative", IoTypes.Conditioning))
        .Required(KSamplerNodes.Cfg() with { Tooltip = null })
        .Output(IoTypes.Guider)
        .ExecuteTensors((_, i) => NodeOutput.Of(new GuiderValue(i.Value<ModelValue>("model"),
            i.Value<ConditioningValue>("positive"), i.Value<ConditioningValue>("negative"), i.Get<double>("cfg"))))
        .Build();

    private static NodeDefinition BasicGuider { get; } = new NodeBuilder("BasicGuider")
        .Category("sampling/custom_sampling/guiders").PythonModule(Module)
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Link("conditioning", IoTypes.Conditioning))
        .Output(IoTypes.Guider)
        .ExecuteTensors((_, i) => NodeOutput.Of(new GuiderValue(i.Value<ModelValue>("model"),
            i.Value<ConditioningValue>("conditioning"), null, 1.0)))
        .Build();

    private static NodeDefinition SamplerCustomAdvanced { get; } = new NodeBuilder("SamplerCustomAdvanced")
        .Category("sampling/custom_sampling").PythonModule(Module)
        .Required(InputSpec.Link("noise", IoTypes.Noise))
        .Required(InputSpec.Link("guider", IoTypes.Guider))
        .Required(InputSpec.Link("sampler", IoTypes.Sampler))
        .Required(InputSpec.Link("sigmas", IoTypes.Sigmas))
        .Required(InputSpec.Link("latent_image", IoTypes.Latent))
        .Output(IoTypes.Latent, "output")
        .Output(IoTypes.Latent, "denoised_output")
        .EstimateMemory(KSamplerNodes.SamplingMemory)
        .ExecuteTensors((ctx, i) =>
        {
            var (output, denoised) = Sample(ctx, i.Value<NoiseValue>("noise"), i.Value<GuiderValue>("guider"),
                i.Value<Sampler>("sampler"), i.Value<Sigmas>("sigmas"), i.Value<LatentValue>("latent_image"));
            return NodeOutput.Of(output, denoised);
        })
        .Build();

    /// <summary>The sampled latent and the last step's x̂₀ (both keep the input's noise mask and batch index).</summary>
    public static (LatentValue Output, LatentValue Denoised) Sample(NodeContext ctx, NoiseValue noise, GuiderValue guider,
        Sampler sampler, Sigmas sigmas, LatentValue latent)
    {
        ModelValue model = guider.Model;
        Tensor samples = latent.Samples.To(model.Device, DType.Float32);
        using SamplingResult result = GuidedSampling.Sample(guider.CreateGuider(new UnetDenoiser(model)), model.ModelSampling,
            model.LatentFormat, sampler, sigmas, noise.Generate(latent), samples, noise.Seed, latent.NoiseMask?.To(model.Device),
            SamplingProgress.Callback(ctx, model.LatentFormat));
        return (latent.WithSamples(result.Samples.To(Device.Cpu, DType.Float32)),
            latent.WithSamples(result.Denoised.To(Device.Cpu, DType.Float32)));
    }
}
