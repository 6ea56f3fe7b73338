using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// The tiny SDXL-layout checkpoint and reference tensors written by Fixtures/make_sdxl_fixtures.py (plain PyTorch; clip_g
/// read in its own OpenCLIP layout through torch's multi-head attention).
/// </summary>
internal static class SdxlFixture
{
    public static string CheckpointPath => FixtureCheckpoint.Path("sdxl_tiny.weights.json");

    public static string IoPath => Path.Combine(ModelFixture.Directory, "sdxl_tiny_io.safetensors");

    public static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(IoPath);
        return file.LoadTensor(name);
    }
}

/// <summary>SDXL's UNet (with the ADM input) and both text encoders against the PyTorch reference, in float32.</summary>
public sealed class SdxlReferenceTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = CheckpointLoader.Load(SdxlFixture.CheckpointPath);

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void TheFixtureLoadsAsSdxlWithEveryKeyUsed()
    {
        Assert.That(_checkpoint.Family, Is.EqualTo(ModelFamily.SDXLCheckpoint));
        Assert.That(_checkpoint.DefaultClipLayer, Is.EqualTo(-2));
        Assert.That(_checkpoint.Config.NormalizeClipHidden, Is.False);
        Assert.That(_checkpoint.ClipG, Is.Not.Null);
        Assert.That(_checkpoint.UnusedKeys, Is.Empty);
    }

    [Test]
    public void ClipLPenultimateWithoutFinalNormMatchesPyTorch()
    {
        using var scope = Torch.NewScope();
        var r = _checkpoint.Clip!.Forward(SdxlFixture.Io("clip_l.ids"), layer: -2, normalizeHidden: false);
        TensorCompare.Close(r.Hidden, SdxlFixture.Io("clip_l.penultimate_raw"), what: "clip_l penultimate");
    }

    [Test]
    public void ClipGHiddenStatesAndProjectedPooledMatchOpenClipReference()
    {
        using var scope = Torch.NewScope();
        Tensor ids = SdxlFixture.Io("clip_g.ids");
        var r = _checkpoint.ClipG!.Forward(ids, layer: -2, normalizeHidden: false);
        TensorCompare.Close(r.Hidden, SdxlFixture.Io("clip_g.penultimate_raw"), what: "clip_g penultimate");
        TensorCompare.Close(r.Pooled, SdxlFixture.Io("clip_g.pooled"), what: "clip_g pooled @ text_projection");
        var last = _checkpoint.ClipG.Forward(ids, layer: -1, normalizeHidden: false);
        TensorCompare.Close(last.Hidden, SdxlFixture.Io("clip_g.last_raw"), what: "clip_g last layer");
    }

    [Test]
    public void AProjectionStoredInLinearLayoutLoadsUntransposed()
    {
        const string key = CheckpointLoader.SdxlClipGPrefix + "text_projection";
        string path = Path.Combine(Path.GetTempPath(), $"sdxl-linear-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (Torch.NewScope())
            {
                using var file = SafetensorsFile.Open(SdxlFixture.CheckpointPath);
                var tensors = file.Entries.Select(e => e.Name == key
                    ? new KeyValuePair<string, Tensor>(key + ".weight", file.LoadTensor(key).Transpose(0, 1).Contiguous())
                    : new KeyValuePair<string, Tensor>(e.Name, file.LoadTensor(e.Name))).ToList();
                SafetensorsTensors.Save(path, tensors, null);
            }
            using var checkpoint = CheckpointLoader.Load(path);
            Assert.That(checkpoint.ConfigSource, Is.EqualTo(ConfigSource.Detected));
            Assert.That(checkpoint.Config, Is.EqualTo(_checkpoint.Config));
            using var scope = Torch.NewScope();
            var r = checkpoint.ClipG!.Forward(SdxlFixture.Io("clip_g.ids"), layer: -2, normalizeHidden: false);
            TensorCompare.Close(r.Pooled, SdxlFixture.Io("clip_g.pooled"), what: "pooled via text_projection.weight");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void UnetWithAdmInputMatchesPyTorch()
    {
        using var scope = Torch.NewScope();
        Tensor eps = _checkpoint.Unet!.Forward(SdxlFixture.Io("unet.x"), SdxlFixture.Io("unet.t"), SdxlFixture.Io("unet.context"),
            SdxlFixture.Io("unet.y"));
        TensorCompare.Close(eps, SdxlFixture.Io("unet.out"), what: "eps");
    }

    [Test]
    public void UnetWithAdmInputRefusesAMissingVector()
    {
        using var scope = Torch.NewScope();
        Assert.Throws<ArgumentException>(() =>
            _checkpoint.Unet!.Forward(SdxlFixture.Io("unet.x"), SdxlFixture.Io("unet.t"), SdxlFixture.Io("unet.context")));
    }
}
