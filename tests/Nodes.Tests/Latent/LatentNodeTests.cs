using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Latent;

/// <summary>EmptyLatentImage, LatentUpscale, LatentUpscaleBy and SetLatentNoiseMask.</summary>
public sealed class LatentNodeTests
{
    private NodeTestEnvironment _env = null!;

    [OneTimeSetUp]
    public void SetUp() => _env = NodeTestEnvironment.Create(withCheckpoint: false);

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    private static LatentValue Latent(long h, long w, long batch = 1) =>
        new(Torch.Arange(0, batch * 4 * h * w).Reshape(batch, 4, h, w) / 100.0, Torch.Ones([batch, 1, h * 8, w * 8]));

    [Test]
    public void EmptyLatentImage_512_is_1x4x64x64_zeros()
    {
        using var latent = _env.Run<LatentValue>("EmptyLatentImage", ("width", 512L), ("height", 512L), ("batch_size", 1L));
        Assert.That(latent.Samples.Shape, Is.EqualTo(new long[] { 1, 4, 64, 64 }));
        Assert.That(latent.Samples.Abs().Sum().Item(), Is.EqualTo(0));
        Assert.That(latent.NoiseMask, Is.Null);
    }

    [Test]
    public void EmptyLatentImage_floors_sizes_to_latent_cells_and_batches()
    {
        using var latent = _env.Run<LatentValue>("EmptyLatentImage", ("width", 200L), ("height", 96L), ("batch_size", 3L));
        Assert.That(latent.Samples.Shape, Is.EqualTo(new long[] { 3, 4, 12, 25 }));
    }

    [TestCase(1024L, 512L, "disabled", 64L, 128L)]
    [TestCase(0L, 512L, "disabled", 64L, 128L)] // keep the 1:2 aspect
    [TestCase(256L, 0L, "disabled", 16L, 32L)]
    [TestCase(16L, 16L, "disabled", 8L, 8L)]     // at least 64 pixels
    [TestCase(512L, 512L, "center", 64L, 64L)]
    public void LatentUpscale_sizes(long width, long height, string crop, long expectedH, long expectedW)
    {
        using var scope = Torch.NewScope();
        using var input = Latent(16, 32);
        using var output = _env.Run<LatentValue>("LatentUpscale", ("samples", input), ("upscale_method", "nearest-exact"),
            ("width", width), ("height", height), ("crop", crop));
        Assert.That(output.Samples.Shape, Is.EqualTo(new long[] { 1, 4, expectedH, expectedW }));
        Assert.That(output.NoiseMask, Is.Not.Null, "the other latent keys are kept");
    }

    [Test]
    public void LatentUpscale_zero_by_zero_keeps_the_latent()
    {
        using var scope = Torch.NewScope();
        using var input = Latent(8, 8);
        using var output = _env.Run<LatentValue>("LatentUpscale", ("samples", input), ("upscale_method", "bilinear"),
            ("width", 0L), ("height", 0L), ("crop", "disabled"));
        Assert.That(output.Samples.ToArray<float>(), Is.EqualTo(input.Samples.ToArray<float>()));
        Assert.That(output.Samples, Is.Not.SameAs(input.Samples));
    }

    [TestCase("nearest-exact", 1.5, 12L, 18L)]
    [TestCase("bilinear", 0.5, 4L, 6L)]
    [TestCase("area", 0.5, 4L, 6L)]
    [TestCase("bicubic", 2.0, 16L, 24L)]
    [TestCase("bislerp", 1.25, 10L, 15L)]
    [TestCase("bislerp", 1.3, 10L, 16L)] // round(8·1.3)=10, round(12·1.3)=round(15.6)=16
    public void LatentUpscaleBy_rounds_each_side(string method, double scale, long expectedH, long expectedW)
    {
        using var scope = Torch.NewScope();
        using var input = Latent(8, 12);
        using var output = _env.Run<LatentValue>("LatentUpscaleBy", ("samples", input), ("upscale_method", method), ("scale_by", scale));
        Assert.That(output.Samples.Shape, Is.EqualTo(new long[] { 1, 4, expectedH, expectedW }));
        Assert.That(output.Samples.IsFinite().LogicalNot().Sum().Item(), Is.EqualTo(0));
    }

    [Test]
    public void Bislerp_of_a_constant_direction_keeps_it_and_interpolates_the_length()
    {
        using var scope = Torch.NewScope();
        // Every cell points the same way (1, 2, 3, 4)·k with k growing along the width: slerp keeps the direction.
        Tensor k = Torch.Arange(1, 5).Reshape(1, 1, 1, 4).Expand(1, 1, 2, 4);
        Tensor direction = Torch.FromArray<float>([1, 2, 3, 4], [1, 4, 1, 1]);
        using var input = new LatentValue((direction * k).Contiguous());
        using var output = _env.Run<LatentValue>("LatentUpscaleBy", ("samples", input), ("upscale_method", "bislerp"), ("scale_by", 2.0));
        Tensor s = output.Samples;
        Tensor ratio = s / s.Select(1, 0).Unsqueeze(1);
        Assert.That(ratio.Select(1, 3).Contiguous().ToArray<float>(), Is.All.EqualTo(4f).Within(1e-4f));
        float[] lengths = s.Select(1, 0).Select(1, 0).Contiguous().ToArray<float>();
        Assert.That(lengths, Is.Ordered, "lengths grow along the width");
    }

    [Test]
    public void SetLatentNoiseMask_attaches_the_mask_as_B_1_H_W()
    {
        using var scope = Torch.NewScope();
        using var input = new LatentValue(Torch.Zeros([1, 4, 8, 8]));
        using Tensor mask = Torch.Ones([64, 64]);
        using var output = _env.Run<LatentValue>("SetLatentNoiseMask", ("samples", input), ("mask", mask));
        Assert.That(output.NoiseMask!.Shape, Is.EqualTo(new long[] { 1, 1, 64, 64 }));
        Assert.That(input.NoiseMask, Is.Null);
    }
}
