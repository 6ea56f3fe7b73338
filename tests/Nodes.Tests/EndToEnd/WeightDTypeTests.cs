using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>The opt-in reduced-precision weights on the CPU (CHARACTERGEN_WEIGHT_DTYPE) run the whole pipeline.</summary>
public sealed class WeightDTypeTests
{
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    [Test]
    public async Task Bfloat16_weights_on_the_cpu_generate_an_image_close_to_float32()
    {
        byte[] reference, reduced;
        await using (var h = EngineHarness.Create())
            reference = await GenerateAsync(h);
        await using (var h = EngineHarness.Create(cacheOptions: new ModelCacheOptions { WeightDType = DType.BFloat16 }))
        {
            reduced = await GenerateAsync(h);
            using var lease = h.Env.Cache.Checkpoint(h.Env.CheckpointPath(NodeTestEnvironment.Checkpoint));
            Assert.That(lease.Value.Unet.NamedParameters().First().Value.Value.DType, Is.EqualTo(DType.BFloat16));
        }
        Assert.That(reduced, Is.Not.EqualTo(reference), "bfloat16 arithmetic differs in the last bits");
        double meanAbs = reference.Zip(reduced, (a, b) => Math.Abs(a - b)).Average();
        Assert.That(meanAbs, Is.LessThan(24), "the same image up to bfloat16 rounding, not another one");
    }

    [TestCase(null, null, DType.Float32)]
    [TestCase(null, "bf16", DType.BFloat16)]
    [TestCase("cpu", "float16", DType.Float16)]
    [TestCase("cuda:0", null, DType.Float16)]
    [TestCase("cuda:0", "float32", DType.Float32)]
    public void Variables_choose_device_and_weight_dtype(string? device, string? dtype, DType expected) =>
        Assert.That(ModelCacheOptions.FromVariables(device, dtype).EffectiveWeightDType, Is.EqualTo(expected));

    [Test]
    public void An_unknown_weight_dtype_is_refused_with_the_variable_named() =>
        Assert.That(Assert.Throws<FormatException>(() => ModelCacheOptions.FromVariables(null, "int8"))!.Message,
            Does.Contain(ModelCacheOptions.WeightDTypeVariable));

    private static async Task<byte[]> GenerateAsync(EngineHarness h)
    {
        var (_, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", Small));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }
}
