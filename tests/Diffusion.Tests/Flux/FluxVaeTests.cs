using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>
/// FLUX's 16-channel autoencoder (ae.safetensors layout: bare encoder./decoder. names, no quant convs) through the
/// existing AutoencoderKL, against the PyTorch reference in Fixtures/make_flux_fixtures.py.
/// </summary>
public sealed class FluxVaeTests
{
    private static string VaePath => FixtureCheckpoint.Path("flux_vae_tiny.weights.json");

    private static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(Path.Combine(ModelFixture.Directory, "flux_tiny_io.safetensors"));
        return file.LoadTensor(name);
    }

    [Test]
    public void DetectsSixteenLatentChannelsWithoutQuantConvs()
    {
        using AutoencoderKL vae = CheckpointLoader.LoadVae(VaePath);
        Assert.That(vae.Config.ZChannels, Is.EqualTo(16));
        Assert.That(vae.Config.UseQuantConv, Is.False);
        Assert.That(vae.QuantConv, Is.Null);
        Assert.That(vae.NamedParameters().Any(p => p.Key.Contains("quant_conv", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public void EncodeAndDecodeMatchPyTorch()
    {
        using var scope = Torch.NewScope();
        using AutoencoderKL vae = CheckpointLoader.LoadVae(VaePath);
        TensorCompare.Close(vae.Encode(Io("vae.image")), Io("vae.mean"), 1e-4, "encode mean");
        TensorCompare.Close(vae.Decode(Io("vae.z")), Io("vae.decoded"), 1e-4, "decode");
    }

    [Test]
    public void FluxLatentFormatScalesAndShifts()
    {
        using var scope = Torch.NewScope();
        Tensor z = Torch.FromArray(new[] { 0.1159f, 1.1159f });
        float[] inside = LatentFormat.Flux.ProcessIn(z).ToArray<float>();
        Assert.That(inside[0], Is.EqualTo(0).Within(1e-7));
        Assert.That(inside[1], Is.EqualTo(0.3611).Within(1e-6));
        Assert.That(LatentFormat.Flux.ProcessOut(LatentFormat.Flux.ProcessIn(z)).ToArray<float>(), Is.EqualTo(z.ToArray<float>()).Within(1e-6));
        Assert.That(LatentFormat.Flux.Channels, Is.EqualTo(16));
    }
}
