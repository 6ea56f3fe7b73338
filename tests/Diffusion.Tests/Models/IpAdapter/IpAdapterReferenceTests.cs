using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models.IpAdapter;

/// <summary>IP-Adapter projections and the decoupled attention on the tiny SD1.5 UNet against the PyTorch reference.</summary>
public sealed class IpAdapterReferenceTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;
    private ClipVisionModel _vision = null!;
    private IpAdapterModel _base = null!, _plus = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _checkpoint = ModelFixture.Load();
        _vision = ClipVisionLoader.Load(IpAdapterFixture.ClipVisionPath);
        _base = IpAdapterModel.Load(IpAdapterFixture.BasePath);
        _plus = IpAdapterModel.Load(IpAdapterFixture.PlusPath);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        _checkpoint.Dispose();
        _vision.Dispose();
        _base.Dispose();
        _plus.Dispose();
    }

    private UnetModel Unet => _checkpoint.Unet!;

    [Test]
    public void FilesAreDetected()
    {
        Assert.That(_base.Info, Is.EqualTo(new IpAdapterInfo(IpAdapterKind.Base, 32, 4, false)));
        Assert.That(_plus.Info, Is.EqualTo(new IpAdapterInfo(IpAdapterKind.Plus, 32, 4, false)));
        Assert.That(_base.Projection, Is.InstanceOf<ImageProjModel>());
        Assert.That(_plus.Projection, Is.InstanceOf<Resampler>());
    }

    [Test]
    public void BaseTokensMatchTheReference()
    {
        using var scope = Torch.NewScope();
        Tensor image = IpAdapterFixture.Io("vision.image");
        var (cond, uncond) = IpAdapterEncoding.Tokens(_base, _vision, image.Narrow(0, 0, 1), null, "concat");
        TensorCompare.Close(cond, IpAdapterFixture.Io("base.cond"), what: "cond");
        TensorCompare.Close(uncond, IpAdapterFixture.Io("base.uncond"), what: "uncond (zero embeds)");
        TensorCompare.Close(IpAdapterEncoding.Tokens(_base, _vision, image, null, "concat").Cond, IpAdapterFixture.Io("base.concat"), what: "concat");
        TensorCompare.Close(IpAdapterEncoding.Tokens(_base, _vision, image, null, "average").Cond, IpAdapterFixture.Io("base.average"), what: "average");
    }

    [Test]
    public void ResamplerTokensMatchTheReference()
    {
        using var scope = Torch.NewScope();
        Tensor image = IpAdapterFixture.Io("vision.image").Narrow(0, 1, 1);
        var (cond, uncond) = IpAdapterEncoding.Tokens(_plus, _vision, image, null, "concat");
        TensorCompare.Close(cond, IpAdapterFixture.Io("plus.cond"), what: "cond");
        TensorCompare.Close(uncond, IpAdapterFixture.Io("plus.uncond"), what: "uncond (black image)");
    }

    [Test]
    public void OneAdapterMatchesTheReference()
    {
        using var scope = Torch.NewScope();
        TensorCompare.Close(Run(Face(0.7)), IpAdapterFixture.Io("unet.face"), what: "face 0.7");
        TensorCompare.Close(Run(), IpAdapterFixture.Io("unet.plain"), what: "plain");
    }

    [Test]
    public void TwoStackedAdaptersMatchTheReference()
    {
        using var scope = Torch.NewScope();
        Tensor both = Run(Face(0.7), Style(0.4));
        TensorCompare.Close(both, IpAdapterFixture.Io("unet.face_style"), what: "face 0.7 + style 0.4");
        Assert.That(TensorCompare.ToDoubles((both - Run(Face(0.7))).Abs().Amax([0, 1, 2, 3])).Single(), Is.GreaterThan(1e-3),
            "the second adapter changes the output");
    }

    [Test]
    public void WeightZeroIsBitIdenticalToNoAdapter()
    {
        using var scope = Torch.NewScope();
        double[] plain = TensorCompare.ToDoubles(Run());
        Assert.That(TensorCompare.ToDoubles(Run(Face(0.0))), Is.EqualTo(plain));
        Assert.That(TensorCompare.ToDoubles(Run(Face(0.0), Style(0.0))), Is.EqualTo(plain));
    }

    [Test]
    public void TheWindowSwitchesOnExactlyTheStepsTheRuleSelects()
    {
        // start_at 0.3 → σ 3.325069, end_at 0.7 → σ 0.831884 (reference/next-wave.md §T); active where end ≤ σ ≤ start.
        var ms = DiscreteModelSampling.Eps();
        double start = ms.PercentToSigma(0.3), end = ms.PercentToSigma(0.7);
        Assert.That(start, Is.EqualTo(3.325069).Within(1e-5));
        Assert.That(end, Is.EqualTo(0.831884).Within(1e-5));
        using var scope = Torch.NewScope();
        using IpAdapterApplication face = Application(_base, "base", 1.0, "linear", start, end);
        var contributor = new IpAdapterContributor([face], new IpAdapterLayout(Unet));
        double[] sigmas = [14.6146, 8.3, 3.326, 3.324, 2.0, 0.8325, 0.8312, 0.5, 0.0292];
        bool[] expected = [false, false, false, true, true, true, false, false, false];
        bool[] patched = sigmas.Select(s => Patched(contributor, s)).ToArray();
        Assert.That(patched, Is.EqualTo(expected));
    }

    [Test]
    public void AnAdapterForAnotherFamilyIsRefusedNamingBoth()
    {
        using var sdxl = CheckpointLoader.Load(SdxlFixture.CheckpointPath);
        var e = Assert.Throws<IpAdapterMismatchException>(() => new IpAdapterLayout(sdxl.Unet!).EnsureFits(_base, "tiny-sd15.safetensors"))!;
        Assert.That(e.Message, Does.Contain("context-32 Base IP-Adapter").And.Contain("SDXL model").And.Contain("context 32 ≠ 80"));
        Assert.DoesNotThrow(() => new IpAdapterLayout(Unet).EnsureFits(_base, "tiny-sd15.safetensors"));
    }

    [Test]
    public void ACheckpointIsNotAnIpAdapter()
    {
        var e = Assert.Throws<CheckpointLoadException>(() => IpAdapterModel.Load(ModelFixture.CheckpointPath))!;
        Assert.That(e.Message, Does.Contain("is not an IP-Adapter").And.Contain("Stable Diffusion 1.x checkpoint"));
    }

    [Test]
    public void RepeatedPatchedCallsReturnToTheBaselineLiveCount()
    {
        Run(Face(0.7), Style(0.4)).Dispose();
        long baseline = Tensor.LiveCount;
        for (int i = 0; i < 2; i++)
        {
            using var scope = Torch.NewScope();
            Run(Face(0.7), Style(0.4));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
    }

    // ---------------------------------------------------------------------------------------------------------------

    private IpAdapterApplication Face(double weight) => Application(_base, "base", weight, "linear");

    private IpAdapterApplication Style(double weight) =>
        Application(_plus, "plus", weight, "ease in", scaling: EmbedsScaling.KVPenalty);

    private static IpAdapterApplication Application(IpAdapterModel model, string name, double weight, string type,
        double start = 999999999.9, double end = 0.0, EmbedsScaling scaling = EmbedsScaling.VOnly) =>
        new(model, IpAdapterFixture.Io(name + ".cond").DetachFromScope(), IpAdapterFixture.Io(name + ".uncond").DetachFromScope(),
            new IpAdapterWeighting(type, weight, isSdxl: false), start, end, scaling, null, null, null);

    /// <summary>The reference's CFG batch (row 0 cond, row 1 uncond) through the UNet with these adapters.</summary>
    private Tensor Run(params IpAdapterApplication[] adapters)
    {
        try
        {
            var layout = new IpAdapterLayout(Unet);
            foreach (var a in adapters) layout.EnsureFits(a.Adapter, "fixture");
            Tensor x = IpAdapterFixture.Io("unet.x"), t = IpAdapterFixture.Io("unet.t"), ctx = IpAdapterFixture.Io("unet.context");
            UnetCall? call = adapters.Length == 0 ? null
                : new UnetCall(Torch.FromArray(new[] { 1.0f, 1.0f }), [0, 1], null, [new IpAdapterPatch(adapters, layout, 8, 8, 1)]);
            return Unet.Forward(x, t, ctx, call: call);
        }
        finally
        {
            foreach (var a in adapters) a.Dispose();
        }
    }

    private bool Patched(IpAdapterContributor contributor, double sigma)
    {
        using var scope = Torch.NewScope();
        var builder = new UnetCallBuilder();
        Tensor x = Torch.Zeros([2, 4, 8, 8]);
        var batch = new UnetBatch(x, Torch.Zeros([2]), Torch.Zeros([2, 77, 32]), null, Torch.FromArray(new[] { (float)sigma, (float)sigma }),
            [], [0, 1], 1);
        contributor.Contribute(batch, builder);
        return builder.Build(batch) is not null;
    }
}
