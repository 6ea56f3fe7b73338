using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>Gradient checkpointing per UNet block: the same training numbers, less memory held between forward and backward.</summary>
public sealed class GradientCheckpointingTests
{
    private string _dir = "";

    [OneTimeSetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("cg-ckpt-").FullName;

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private StableDiffusionCheckpoint Load(string name, TinySizes sizes)
    {
        string path = Path.Combine(_dir, name);
        if (!File.Exists(path)) TestCheckpoints.WriteSd15(path, seed: 3, sizes);
        return CheckpointLoader.Load(path, parts: CheckpointParts.Unet);
    }

    [TestCase(LoraTargets.Attention)]
    [TestCase(LoraTargets.All)]
    public void TrainingWithAndWithoutCheckpointingGivesTheSameLossesAndWeights(LoraTargets targets)
    {
        using StableDiffusionCheckpoint ckpt = Load("tiny.safetensors", TinySizes.Default.WithVocabSize(500));
        var samples = LoraTrainerTests.Samples(3, 21);
        try
        {
            var options = new LoraTrainingOptions { Steps = 3, BatchSize = 2, GradientAccumulationSteps = 2, LearningRate = 2e-3, Targets = targets, Seed = 4 };
            using TrainedLora plain = new LoraTrainer(ckpt.Unet!, ckpt.Family, ckpt.Prediction, samples, options).Train("tiny");
            long baseline = Tensor.LiveCount, native = Torch.NativeLiveTensors;
            using TrainedLora checkpointed = new LoraTrainer(ckpt.Unet!, ckpt.Family, ckpt.Prediction, samples,
                options with { GradientCheckpointing = true }).Train("tiny");
            Assert.That(ckpt.Unet!.GradientCheckpointing, Is.False, "the trainer leaves the UNet as it found it");
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline + checkpointed.Tensors.Count), "only the result's tensors are alive");
            Assert.That(Torch.NativeLiveTensors, Is.EqualTo(native + checkpointed.Tensors.Count));
            AssertSameLosses(checkpointed, plain, percent: 1e-4);
            using (Torch.NewScope())
                Assert.That(plain.Tensors.Any(t => t.Key.EndsWith(".lora_up.weight", StringComparison.Ordinal) && t.Value.Abs().Max().Item() > 0), "the LoRA moved");
            // With every layer targeted, this tiny UNet's GroupNorm (one channel per group) cancels the time-embedding
            // projections exactly: their gradient is rounding noise, which AdamW turns into ±lr steps. So the weights
            // are compared where gradients carry signal; CheckpointedGradientsMatch covers every adapter's gradient.
            if (targets == LoraTargets.Attention) AssertCloseUpWeights(checkpointed, plain, relative: 1e-2);
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    /// <summary>
    /// Same losses up to rounding. Not bit-identical: a tensor used inside a block and again outside it (the skip
    /// connections) gets its gradient summed in another association ((a + b) + c instead of (a + c) + b), as with
    /// torch.utils.checkpoint. The first loss is exact; later ones differ in the last bits (float32: ~1e-7 relative).
    /// </summary>
    internal static void AssertSameLosses(TrainedLora actual, TrainedLora expected, double percent)
    {
        Assert.That(actual.Losses[0], Is.EqualTo(expected.Losses[0]), "the first forward is the same computation");
        for (int i = 1; i < expected.Losses.Count; i++)
            Assert.That(actual.Losses[i], Is.EqualTo(expected.Losses[i]).Within(percent).Percent, $"loss {i + 1}");
    }

    // AdamW's first steps move every weight by about ±lr whatever its gradient's size, so an entry whose gradient is
    // ~0 may step the other way: compare the L2 norm of the learned up matrices' difference.
    private static void AssertCloseUpWeights(TrainedLora actual, TrainedLora expected, double relative)
    {
        Assert.That(actual.Tensors.Select(t => t.Key), Is.EqualTo(expected.Tensors.Select(t => t.Key)));
        for (int i = 0; i < expected.Tensors.Count; i++)
        {
            if (!expected.Tensors[i].Key.EndsWith(".lora_up.weight", StringComparison.Ordinal)) continue;
            float[] a = actual.Tensors[i].Value.ToArray<float>(), e = expected.Tensors[i].Value.ToArray<float>();
            Assert.That(Distance(a, e), Is.LessThanOrEqualTo(relative * Distance(e, new float[e.Length])), expected.Tensors[i].Key);
        }
    }

    private static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));

    // Three levels, two res blocks each, and two channels per GroupNorm group (with one, the norm cancels the
    // time embedding and its gradient is pure rounding noise).
    private static readonly TinySizes Deeper = TinySizes.Default.WithVocabSize(500) with
    {
        Unet = TinySizes.Default.Unet with { ModelChannels = 64, ChannelMult = [1, 2, 2], NumResBlocks = 2, TransformerDepth = [1, 1, 1] },
    };

    // float32: every adapter's gradient equal to 1e-5 of its norm. bf16: rounding at bf16's 8 bits, summed in another
    // order, moves small gradients by more than their size (a conv's 5e-6 by 6e-6, measured), so the whole gradient
    // vector is compared instead.
    [TestCase(false)]
    [TestCase(true)]
    public void CheckpointedGradientsMatchEveryAdapter(bool bf16)
    {
        using StableDiffusionCheckpoint ckpt = Load("deeper.safetensors", Deeper);
        long baseline = Tensor.LiveCount;
        (_, List<float[]> plain) = Backward(ckpt, checkpointing: false, bf16, latent: 8);
        (_, List<float[]> checkpointed) = Backward(ckpt, checkpointing: true, bf16, latent: 8);
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        Assert.That(plain.Count(g => g.Any(v => v != 0)), Is.GreaterThan(plain.Count / 2), "most adapters get a gradient");
        if (bf16)
        {
            float[] all = plain.SelectMany(g => g).ToArray(), allCheckpointed = checkpointed.SelectMany(g => g).ToArray();
            Assert.That(Distance(allCheckpointed, all), Is.LessThanOrEqualTo(2e-2 * Distance(all, new float[all.Length])));
            return;
        }
        for (int i = 0; i < plain.Count; i++)
        {
            double norm = Distance(plain[i], new float[plain[i].Length]);
            Assert.That(Distance(checkpointed[i], plain[i]), Is.LessThanOrEqualTo(1e-5 * norm + 1e-9), $"gradient {i}");
        }
    }

    [Test]
    public void CheckpointingHoldsLessMemoryBetweenForwardAndBackwardOnADeeperUnet()
    {
        Assert.That(HostMemory.InUseBytes(), Is.Not.Null, "glibc reports the heap in use");
        using StableDiffusionCheckpoint ckpt = Load("deeper.safetensors", Deeper);
        long baseline = Tensor.LiveCount, native = Torch.NativeLiveTensors;
        (long plain, _) = Backward(ckpt, checkpointing: false, bf16: false, latent: 16);
        (long checkpointed, _) = Backward(ckpt, checkpointing: true, bf16: false, latent: 16);
        TestContext.Out.WriteLine($"held between forward and backward: {plain / 1e6:F1} MB without, {checkpointed / 1e6:F1} MB with checkpointing");
        Assert.That(checkpointed, Is.LessThan(plain / 2), $"{checkpointed} bytes with checkpointing, {plain} without");
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(native));
    }

    // One forward and backward of all-layer LoRA: the native heap growth from before the forward to after it (the
    // activations the graph keeps for backward) and every adapter's down and up gradient.
    private static (long Held, List<float[]> Gradients) Backward(StableDiffusionCheckpoint ckpt, bool checkpointing, bool bf16, int latent)
    {
        using var network = new LoraNetwork(ckpt.Unet!, ckpt.Family, LoraTargets.All, rank: 4, alpha: 4, seed: 1);
        using var scope = Torch.NewScope();
        using (Autograd.NoGrad())
            foreach (LoraAdapter a in network.Adapters) a.Up.Copy_(Torch.Full(a.Up.Shape, 0.01)); // up ≠ 0, so down gets a gradient
        using var g = new Generator(7);
        using var grad = Autograd.EnableGrad();
        Tensor x = Torch.Randn([2, 4, latent, latent], g), t = Torch.FromArray(new[] { 100f, 700f }), context = Torch.Randn([2, 77, 32], g);
        ckpt.Unet!.GradientCheckpointing = checkpointing;
        try
        {
            long before = HostMemory.InUseBytes()!.Value;
            Tensor loss;
            using (bf16 ? Autocast.Enable(Device.Cpu) : null) loss = ckpt.Unet.Forward(x, t, context).Square().Mean();
            long held = HostMemory.InUseBytes()!.Value - before;
            loss.Backward();
            var gradients = network.Parameters.Select(p => p.Grad?.ToArray<float>() ?? new float[p.NumElements]).ToList();
            return (held, gradients);
        }
        finally
        {
            ckpt.Unet.GradientCheckpointing = false;
        }
    }
}
