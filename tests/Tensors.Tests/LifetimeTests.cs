using CharacterGen.Tensors.Nn;

namespace CharacterGen.Tensors.Tests;

/// <summary>Dispose scopes and the live-tensor counters: the leak oracle every generation test relies on.</summary>
public sealed class LifetimeTests
{
    [Test]
    public void AScopeDisposesEverythingMadeInsideIt()
    {
        long before = Tensor.LiveCount;
        using (Torch.NewScope())
        {
            Tensor x = Torch.Ones([4, 4]);
            _ = (x * 2 + 1).Exp().Sum();
            Assert.That(Tensor.LiveCount, Is.GreaterThan(before));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void MoveToOuterScopeKeepsAResultAliveUntilTheOuterScopeEnds()
    {
        long before = Tensor.LiveCount;
        using (Torch.NewScope())
        {
            Tensor kept;
            using (Torch.NewScope())
            {
                Tensor tmp = Torch.Ones([3]);
                kept = (tmp * 5).MoveToOuterScope();
            }
            Assert.That(kept.ToArray<float>(), Is.EqualTo(new[] { 5f, 5f, 5f }));
            Assert.That(Tensor.LiveCount, Is.EqualTo(before + 1));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void DetachedTensorsOutliveTheirScopeUntilDisposed()
    {
        long before = Tensor.LiveCount;
        Tensor owned;
        using (Torch.NewScope()) owned = Torch.Zeros([2]).DetachFromScope();
        Assert.That(owned.IsClosed, Is.False);
        owned.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void BuildingRunningAndDisposingANetworkAThousandTimesLeaksNothing()
    {
        long before = Tensor.LiveCount, nativeBefore = Torch.NativeLiveTensors;
        using var g = new Generator(3);
        for (int i = 0; i < 1000; i++)
        {
            using var net = new TinyNet();
            net.InitializeRandom(g);
            using var scope = Torch.NewScope();
            Tensor y = net.Forward(Torch.Randn([2, 3, 8, 8], g));
            Assert.That(y.Shape, Is.EqualTo(new long[] { 2, 10 }));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(nativeBefore));
    }

    [Test]
    public void ModuleNamesMirrorCheckpointKeysAndLoadChecksShapes()
    {
        using var net = new TinyNet();
        Assert.That(net.NamedParameters().Select(p => p.Key), Is.EqualTo(new[]
        {
            "conv.weight", "conv.bias", "norm.weight", "norm.bias", "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias",
        }));
        var e = Assert.Throws<ArgumentException>(() => net.Load((name, p) => Torch.Zeros([1]).DetachFromScope()));
        Assert.That(e!.Message, Does.Contain("does not match"));
        var missing = Assert.Throws<KeyNotFoundException>(() => net.Load((name, p) => name == "conv.weight" ? Torch.Zeros(p.Shape) : null));
        Assert.That(missing!.Message, Does.Contain("7 weight(s) missing").And.Contain("conv.bias"));
    }

    /// <summary>conv → group norm → SiLU → pool → linear → (placeholder) → linear.</summary>
    private sealed class TinyNet : Module
    {
        private readonly Conv2d _conv;
        private readonly GroupNorm _norm;
        private readonly ModuleList _head;

        public TinyNet()
        {
            _conv = Child("conv", new Conv2d(3, 8, 3, padding: 1));
            _norm = Child("norm", new GroupNorm(4, 8));
            _head = Child("head", new ModuleList().Add(new Linear(8, 16)).Add(null).Add(new Linear(16, 10)));
        }

        public Tensor Forward(Tensor x)
        {
            using var scope = Torch.NewScope();
            Tensor h = F.Silu(_norm.Forward(_conv.Forward(x))).Mean([2, 3]);
            h = F.Gelu(((Linear)_head[0]!).Forward(h));
            return ((Linear)_head[2]!).Forward(h).MoveToOuterScope();
        }
    }
}
