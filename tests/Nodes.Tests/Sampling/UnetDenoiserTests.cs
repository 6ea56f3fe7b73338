using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Nodes.Sampling;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Sampling;

/// <summary>calc_cond_batch: batching of conditionings into UNet calls, token padding and area weighting.</summary>
public sealed class UnetDenoiserTests
{
    private NodeTestEnvironment _env = null!;
    private GraphRuntime.Contracts.NodeOutput _loaded = null!;
    private ModelValue Model => (ModelValue)_loaded.Values[0]!;

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

    private static ConditioningValue Cond(ulong seed, long tokens = 77, ConditioningArea? area = null, double strength = 1.0) =>
        new([new ConditioningEntry(Torch.Randn([1, tokens, 32], seed), null, area, strength)]);

    private static (Tensor X, Tensor Sigma) Input(long batch = 1) =>
        (Torch.Randn([batch, 4, 8, 8], 11) * 3.0, Torch.Full([batch], 3.0));

    private float[] Single(ConditioningValue cond, Tensor x, Tensor sigma) =>
        new UnetDenoiser(Model).Denoise(x, sigma, [cond])[0].ToArray<float>();

    [Test]
    public void Positive_and_negative_share_one_unet_call_and_match_separate_calls()
    {
        using var scope = Torch.NewScope();
        var (x, sigma) = Input(batch: 2);
        ConditioningValue positive = Cond(1), negative = Cond(2);
        var denoiser = new UnetDenoiser(Model);
        Tensor[] both = denoiser.Denoise(x, sigma, [positive, negative]);
        Assert.That(denoiser.NetworkCalls, Is.EqualTo(1));
        Assert.That(both[0].ToArray<float>(), Is.EqualTo(Single(positive, x, sigma)).Within(1e-4f));
        Assert.That(both[1].ToArray<float>(), Is.EqualTo(Single(negative, x, sigma)).Within(1e-4f));
    }

    [Test]
    public void Contexts_of_77_and_154_tokens_are_padded_by_repetition_into_one_call()
    {
        using var scope = Torch.NewScope();
        var (x, sigma) = Input();
        ConditioningValue shortCond = Cond(1), longCond = Cond(2, tokens: 154);
        var denoiser = new UnetDenoiser(Model);
        Tensor[] both = denoiser.Denoise(x, sigma, [shortCond, longCond]);
        Assert.That(denoiser.NetworkCalls, Is.EqualTo(1));
        Assert.That(both[0].ToArray<float>(), Is.EqualTo(Single(shortCond, x, sigma)).Within(1e-4f),
            "attention over a repeated context equals attention over the original");
    }

    [Test]
    public void Contexts_too_different_in_length_run_separately()
    {
        using var scope = Torch.NewScope();
        var (x, sigma) = Input();
        var denoiser = new UnetDenoiser(Model);
        denoiser.Denoise(x, sigma, [Cond(1), Cond(2, tokens: 77 * 5)]);
        Assert.That(denoiser.NetworkCalls, Is.EqualTo(2));
    }

    [Test]
    public void Combined_entries_are_averaged_weighted_by_strength()
    {
        using var scope = Torch.NewScope();
        var (x, sigma) = Input();
        ConditioningValue a = Cond(1), b = Cond(2, strength: 3.0);
        var combined = new ConditioningValue([a.Entries[0], b.Entries[0]]);
        Tensor result = new UnetDenoiser(Model).Denoise(x, sigma, [combined])[0];
        Tensor expected = (Torch.FromArray(Single(a, x, sigma)) + Torch.FromArray(Single(b, x, sigma)) * 3.0) / 4.0;
        Assert.That(result.ToArray<float>(), Is.EqualTo(expected.ToArray<float>()).Within(1e-4f));
    }

    [Test]
    public void An_area_entry_only_contributes_inside_its_area_with_feathered_edges()
    {
        using var scope = Torch.NewScope();
        var (x, sigma) = Input();
        ConditioningValue background = Cond(1);
        // The right half of the 8×8 latent: x offset 4 is an inner edge, so its first column is feathered (ramp 1).
        ConditioningValue area = Cond(2, area: new ConditioningArea(Height: 8, Width: 4, Y: 0, X: 4), strength: 1.0);
        var combined = new ConditioningValue([background.Entries[0], area.Entries[0]]);
        Tensor result = new UnetDenoiser(Model).Denoise(x, sigma, [combined])[0];

        Tensor full = Torch.FromArray(Single(background, x, sigma)).Reshape(1, 4, 8, 8);
        Tensor left = result.Narrow(3, 0, 4).Contiguous(), fullLeft = full.Narrow(3, 0, 4).Contiguous();
        Assert.That(left.ToArray<float>(), Is.EqualTo(fullLeft.ToArray<float>()).Within(1e-4f), "outside the area only the background counts");
        Tensor right = result.Narrow(3, 4, 4).Contiguous(), fullRight = full.Narrow(3, 4, 4).Contiguous();
        Assert.That(right.ToArray<float>(), Is.Not.EqualTo(fullRight.ToArray<float>()));
    }
}
