using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// Our CLIP, UNet and VAE, loaded through the checkpoint loader, against the independent PyTorch reference
/// (Fixtures/make_model_fixtures.py) on the same weights and inputs, in float32.
/// </summary>
public sealed class ReferenceTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void ClipLastLayerAndPooledMatchPyTorch()
    {
        using var scope = Torch.NewScope();
        var r = _checkpoint.Clip!.Forward(ModelFixture.Io("clip.ids"));
        TensorCompare.Close(r.Hidden, ModelFixture.Io("clip.last"), what: "last hidden");
        TensorCompare.Close(r.Pooled, ModelFixture.Io("clip.pooled"), what: "pooled");
    }

    [Test]
    public void ClipPenultimateLayerMatchesPyTorchWithAndWithoutFinalNorm()
    {
        using var scope = Torch.NewScope();
        Tensor ids = ModelFixture.Io("clip.ids");
        var normed = _checkpoint.Clip!.Forward(ids, layer: -2);
        TensorCompare.Close(normed.Hidden, ModelFixture.Io("clip.penultimate"), what: "penultimate, final norm (SD1)");
        TensorCompare.Close(normed.Pooled, ModelFixture.Io("clip.pooled"), what: "pooled is always the last layer");
        var raw = _checkpoint.Clip.Forward(ids, layer: -2, normalizeHidden: false);
        TensorCompare.Close(raw.Hidden, ModelFixture.Io("clip.penultimate_raw"), what: "penultimate, no final norm (SDXL style)");
    }

    [Test]
    public void UnetMatchesPyTorchForACfgBatchWithPerSampleTimesteps()
    {
        using var scope = Torch.NewScope();
        Tensor eps = _checkpoint.Unet!.Forward(ModelFixture.Io("unet.x"), ModelFixture.Io("unet.t"), ModelFixture.Io("unet.context"));
        TensorCompare.Close(eps, ModelFixture.Io("unet.out"), what: "eps");
    }

    [Test]
    public void UnetMatchesPyTorchForAnOddLatentAndATwoChunkContext()
    {
        using var scope = Torch.NewScope();
        Tensor eps = _checkpoint.Unet!.Forward(ModelFixture.Io("unet_odd.x"), ModelFixture.Io("unet_odd.t"), ModelFixture.Io("unet_odd.context"));
        TensorCompare.Close(eps, ModelFixture.Io("unet_odd.out"), what: "eps 7×5");
    }

    [Test]
    public void VaeEncodeMeanMatchesPyTorch()
    {
        using var scope = Torch.NewScope();
        TensorCompare.Close(_checkpoint.Vae!.Encode(ModelFixture.Io("vae.image")), ModelFixture.Io("vae.mean"), what: "mean");
    }

    [Test]
    public void VaeDecodeMatchesPyTorch()
    {
        using var scope = Torch.NewScope();
        TensorCompare.Close(_checkpoint.Vae!.Decode(ModelFixture.Io("vae.latent")), ModelFixture.Io("vae.decoded"), what: "decoded");
    }
}
