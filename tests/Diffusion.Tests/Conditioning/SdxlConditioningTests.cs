using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Conditioning;

/// <summary>SDXL's ADM vector and combined text encoding against make_sdxl_fixtures.py.</summary>
public sealed class SdxlConditioningTests
{
    // The fixture's adm.sizes: height 1024, width 832, crop_h 16, crop_w 0, target_height 1024, target_width 768.
    private static readonly SdxlSizeConditioning s_sizes = new(Width: 832, Height: 1024, CropW: 0, CropH: 16, TargetWidth: 768, TargetHeight: 1024);

    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = CheckpointLoader.Load(SdxlFixture.CheckpointPath);

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void SizeValuesFollowEncodeAdmOrder()
    {
        using var scope = Torch.NewScope();
        Assert.That(s_sizes.Values(), Is.EqualTo(TensorCompare.ToDoubles(SdxlFixture.Io("adm.sizes")).Select(v => (float)v)));
        Assert.That(new SdxlSizeConditioning(640, 512).Values(), Is.EqualTo(new float[] { 512, 640, 0, 0, 512, 640 }), "target defaults to the size");
        Assert.That(SdxlSizeConditioning.ForLatent(128, 96), Is.EqualTo(new SdxlSizeConditioning(1024, 768, 0, 0, 1024, 768)));
        Assert.That(SdxlSizeConditioning.Default.Values(), Is.EqualTo(new float[] { 1024, 1024, 0, 0, 1024, 1024 }));
    }

    [Test]
    public void ZeroEmbedsAsCosinesOfOneAndSinesOfZero()
    {
        using var scope = Torch.NewScope();
        double[] e = TensorCompare.ToDoubles(new SdxlSizeConditioning(0, 0).Embedding());
        Assert.That(e, Has.Length.EqualTo(1536));
        Assert.That(e.Take(128), Is.All.EqualTo(1.0));
        Assert.That(e.Skip(128).Take(128), Is.All.EqualTo(0.0));
    }

    [Test]
    public void AdmVectorMatchesReference()
    {
        using var scope = Torch.NewScope();
        Tensor y = s_sizes.AdmVector(SdxlFixture.Io("clip_g.pooled"));
        Assert.That(y.Shape, Is.EqualTo(new long[] { 2, 40 + 1536 }));
        TensorCompare.Close(y, SdxlFixture.Io("adm.y"), what: "adm");
    }

    [Test]
    public void TextEncodingConcatenatesClipLAndClipGAndPoolsClipG()
    {
        using var scope = Torch.NewScope();
        var r = SdxlTextEncoding.Encode(_checkpoint.Clip!, _checkpoint.ClipG!, SdxlFixture.Io("clip_l.ids"), SdxlFixture.Io("clip_g.ids"));
        TensorCompare.Close(r.Hidden, SdxlFixture.Io("sdxl.cond"), what: "cond");
        TensorCompare.Close(r.Pooled, SdxlFixture.Io("clip_g.pooled"), what: "pooled");
    }

    [Test]
    public void TextToEpsEndToEndMatchesReference()
    {
        using var scope = Torch.NewScope();
        var text = SdxlTextEncoding.Encode(_checkpoint.Clip!, _checkpoint.ClipG!, SdxlFixture.Io("clip_l.ids"), SdxlFixture.Io("clip_g.ids"));
        Tensor eps = _checkpoint.Unet!.Forward(SdxlFixture.Io("unet.x"), SdxlFixture.Io("unet.t"), SdxlFixture.Io("unet.context"),
            s_sizes.AdmVector(text.Pooled));
        TensorCompare.Close(eps, SdxlFixture.Io("unet.out"), what: "eps with our own ADM vector");
    }

    [Test]
    public void CombineCutsToTheShorterTokenCount()
    {
        using var scope = Torch.NewScope();
        Tensor c = SdxlTextEncoding.Combine(Torch.Zeros([1, 154, 3]), Torch.Ones([1, 77, 5]));
        Assert.That(c.Shape, Is.EqualTo(new long[] { 1, 77, 8 }));
        Assert.That(TensorCompare.ToDoubles(c.Narrow(2, 3, 5)), Is.All.EqualTo(1.0));
    }
}
