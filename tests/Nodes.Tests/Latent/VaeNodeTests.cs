using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Latent;

/// <summary>VAEEncode, VAEDecode and VAEEncodeForInpaint on a tiny checkpoint's VAE.</summary>
public sealed class VaeNodeTests
{
    private NodeTestEnvironment _env = null!;
    private GraphRuntime.Contracts.NodeOutput _loaded = null!;
    private VaeValue Vae => (VaeValue)_loaded.Values[2]!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _loaded = _env.LoadCheckpoint();
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        NodeTestEnvironment.DisposeAll(_loaded);
        _env.Dispose();
    }

    private static Tensor Image(long h, long w, ulong seed = 1) => Torch.Rand([1, h, w, 3], new Generator(seed));

    [Test]
    public void Encode_then_decode_gives_an_image_of_the_same_size_in_0_to_1()
    {
        using var scope = Torch.NewScope();
        Tensor image = Image(64, 48);
        using var latent = _env.Run<LatentValue>("VAEEncode", ("pixels", image), ("vae", Vae));
        Assert.That(latent.Samples.Shape, Is.EqualTo(new long[] { 1, 4, 8, 6 }));
        using var decoded = _env.Run<Tensor>("VAEDecode", ("samples", latent), ("vae", Vae));
        Assert.That(decoded.Shape, Is.EqualTo(new long[] { 1, 64, 48, 3 }));
        Assert.That(decoded.Min().Item(), Is.GreaterThanOrEqualTo(0));
        Assert.That(decoded.Max().Item(), Is.LessThanOrEqualTo(1));
    }

    [Test]
    public void Encode_crops_sides_that_are_not_multiples_of_8_evenly()
    {
        using var scope = Torch.NewScope();
        Tensor image = Image(70, 45);
        using var latent = _env.Run<LatentValue>("VAEEncode", ("pixels", image), ("vae", Vae));
        // 70 → 64 from row 3; 45 → 40 from column 2 (ComfyUI vae_encode_crop_pixels).
        using var cropped = _env.Run<LatentValue>("VAEEncode", ("pixels", image.Narrow(1, 3, 64).Narrow(2, 2, 40).Contiguous()), ("vae", Vae));
        Assert.That(latent.Samples.Shape, Is.EqualTo(new long[] { 1, 4, 8, 5 }));
        Assert.That(latent.Samples.ToArray<float>(), Is.EqualTo(cropped.Samples.ToArray<float>()).Within(1e-5f));
    }

    [Test]
    public void EncodeForInpaint_fills_masked_pixels_with_grey_and_grows_the_noise_mask()
    {
        using var scope = Torch.NewScope();
        Tensor image = Image(64, 64);
        // One masked 8×8 block at rows 24..31, columns 32..39.
        Tensor mask = Torch.Zeros([1, 64, 64]);
        mask.Narrow(1, 24, 8).Narrow(2, 32, 8).Fill_(1);
        using var latent = _env.Run<LatentValue>("VAEEncodeForInpaint", ("pixels", image), ("vae", Vae), ("mask", mask),
            ("grow_mask_by", 6L));

        // The latent is the encoding of the image with the masked pixels at 0.5.
        Tensor filled = image.Clone();
        filled.Narrow(1, 24, 8).Narrow(2, 32, 8).Fill_(0.5);
        using var expected = _env.Run<LatentValue>("VAEEncode", ("pixels", filled), ("vae", Vae));
        Assert.That(latent.Samples.ToArray<float>(), Is.EqualTo(expected.Samples.ToArray<float>()).Within(1e-5f));

        // Noise mask: a 6×6 box with padding 3 grows the block by 2 up/left and 3 down/right (even kernel).
        Tensor noise = latent.NoiseMask!;
        Assert.That(noise.Shape, Is.EqualTo(new long[] { 1, 1, 64, 64 }));
        Assert.That(noise.Sum().Item(), Is.EqualTo(13 * 13));
        Assert.That(noise.Narrow(2, 22, 13).Narrow(3, 30, 13).Sum().Item(), Is.EqualTo(13 * 13));
    }

    [Test]
    public void EncodeForInpaint_without_growth_uses_the_mask_itself_and_resizes_a_small_mask()
    {
        using var scope = Torch.NewScope();
        Tensor image = Image(64, 64);
        Tensor mask = Torch.Zeros([1, 8, 8]);
        mask.Narrow(1, 0, 4).Fill_(1); // top half
        using var latent = _env.Run<LatentValue>("VAEEncodeForInpaint", ("pixels", image), ("vae", Vae), ("mask", mask),
            ("grow_mask_by", 0L));
        Tensor noise = latent.NoiseMask!;
        Assert.That(noise.Shape, Is.EqualTo(new long[] { 1, 1, 64, 64 }));
        Assert.That(noise.Narrow(2, 0, 30).Min().Item(), Is.EqualTo(1));
        Assert.That(noise.Narrow(2, 34, 30).Max().Item(), Is.EqualTo(0));
    }
}
