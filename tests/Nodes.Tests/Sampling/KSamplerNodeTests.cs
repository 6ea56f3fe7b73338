using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Sampling;

/// <summary>KSampler and KSamplerAdvanced called directly: step windows, denoise, noise masks kept on the output.</summary>
public sealed class KSamplerNodeTests
{
    private NodeTestEnvironment _env = null!;
    private NodeOutput _loaded = null!;
    private ConditioningValue _positive = null!, _negative = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _loaded = _env.LoadCheckpoint();
        _positive = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a photo of a cat"), ("clip", _loaded.Values[1]));
        _negative = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "blurry"), ("clip", _loaded.Values[1]));
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _positive.Dispose();
        _negative.Dispose();
        NodeTestEnvironment.DisposeAll(_loaded);
        _env.Dispose();
    }

    private LatentValue KSampler(LatentValue latent, long steps, double denoise = 1.0, long seed = 3) =>
        _env.Run<LatentValue>("KSampler", ("model", _loaded.Values[0]), ("seed", seed), ("steps", steps), ("cfg", 6.0),
            ("sampler_name", "euler"), ("scheduler", "normal"), ("positive", _positive), ("negative", _negative),
            ("latent_image", latent), ("denoise", denoise));

    private LatentValue Advanced(LatentValue latent, string addNoise, long start, long end, string leftover) =>
        _env.Run<LatentValue>("KSamplerAdvanced", ("model", _loaded.Values[0]), ("add_noise", addNoise), ("noise_seed", 3L),
            ("steps", 6L), ("cfg", 6.0), ("sampler_name", "euler"), ("scheduler", "normal"), ("positive", _positive),
            ("negative", _negative), ("latent_image", latent), ("start_at_step", start), ("end_at_step", end),
            ("return_with_leftover_noise", leftover));

    [Test]
    public void Two_advanced_passes_split_at_a_step_equal_one_full_pass()
    {
        using var scope = Torch.NewScope();
        using var empty = new LatentValue(Torch.Zeros([1, 4, 8, 8]));
        using var full = KSampler(empty, 6);
        using var firstHalf = Advanced(empty, "enable", 0, 3, "enable");
        using var secondHalf = Advanced(firstHalf, "disable", 3, 10000, "disable");
        Assert.That(secondHalf.Samples.ToArray<float>(), Is.EqualTo(full.Samples.ToArray<float>()).Within(1e-3f));
        Assert.That(firstHalf.Samples.ToArray<float>(), Is.Not.EqualTo(full.Samples.ToArray<float>()).Within(1e-3f));
    }

    [Test]
    public void A_start_step_past_the_end_returns_the_latent_unchanged()
    {
        using var scope = Torch.NewScope();
        using var input = new LatentValue(Torch.Randn([1, 4, 8, 8], 8));
        using var output = Advanced(input, "enable", 6, 10000, "disable");
        Assert.That(output.Samples.ToArray<float>(), Is.EqualTo(input.Samples.ToArray<float>()));
    }

    [Test]
    public void Denoise_zero_returns_the_input_and_the_output_keeps_the_noise_mask()
    {
        using var scope = Torch.NewScope();
        using var input = new LatentValue(Torch.Randn([1, 4, 8, 8], 8), Torch.Ones([1, 1, 64, 64]));
        using var output = KSampler(input, 4, denoise: 0.0);
        Assert.That(output.Samples.ToArray<float>(), Is.EqualTo(input.Samples.ToArray<float>()));
        Assert.That(output.NoiseMask, Is.Not.Null.And.Not.SameAs(input.NoiseMask));
    }

    [Test]
    public void Outside_the_noise_mask_the_input_latent_is_kept()
    {
        using var scope = Torch.NewScope();
        Tensor mask = Torch.Zeros([1, 1, 64, 64]);
        mask.Narrow(3, 32, 32).Fill_(1); // repaint the right half only
        using var input = new LatentValue(Torch.Randn([1, 4, 8, 8], 8), mask);
        using var output = KSampler(input, 3);
        Assert.That(output.Samples.Narrow(3, 0, 4).Contiguous().ToArray<float>(),
            Is.EqualTo(input.Samples.Narrow(3, 0, 4).Contiguous().ToArray<float>()).Within(1e-4f));
        Assert.That(output.Samples.Narrow(3, 4, 4).Contiguous().ToArray<float>(),
            Is.Not.EqualTo(input.Samples.Narrow(3, 4, 4).Contiguous().ToArray<float>()).Within(1e-2f));
    }

    [Test]
    public void Progress_is_reported_per_step_and_cancellation_stops_sampling()
    {
        using var scope = Torch.NewScope();
        using var empty = new LatentValue(Torch.Zeros([1, 4, 8, 8]));
        using var cancel = new CancellationTokenSource();
        var seen = new List<(double, double)>();
        var ctx = NodeContext.Detached(services: _env.Services, cancellationToken: cancel.Token, onProgress: (value, max, _) =>
        {
            seen.Add((value, max));
            if (value == 2) cancel.Cancel();
        });
        var inputs = NodeInputs.From(new Dictionary<string, object?>
        {
            ["model"] = _loaded.Values[0], ["seed"] = 1L, ["steps"] = 10L, ["cfg"] = 6.0, ["sampler_name"] = "euler",
            ["scheduler"] = "normal", ["positive"] = _positive, ["negative"] = _negative, ["latent_image"] = empty, ["denoise"] = 1.0,
        });
        long before = Tensor.LiveCount;
        Assert.Throws<OperationCanceledException>(() => _env.Node("KSampler").Execute(ctx, inputs));
        Assert.That(seen, Is.EqualTo(new[] { (1.0, 10.0), (2.0, 10.0) }));
        Assert.That(Tensor.LiveCount, Is.EqualTo(before), "a cancelled call leaves nothing behind");
    }
}
