using System.Diagnostics;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// The real-size SDXL UNet (2.57 B parameters, 10.3 GB in float32), built from <see cref="UnetConfig.Sdxl"/> and filled
/// with random weights in memory (a file would be 5 GB even in float16), runs one step at a 128×128 latent on the CPU.
/// </summary>
public sealed class SdxlFullSizeTests
{
    // About 30 s to initialise and 90 s for the step on two cores; filter with TestCategory!=FullSize to skip.
    [Test]
    [Category("FullSize")]
    public void FullSizeSdxlUnetRunsOneStepAt128x128()
    {
        var watch = Stopwatch.StartNew();
        using var unet = new UnetModel(UnetConfig.Sdxl);
        TestCheckpoints.Initialize(unet, seed: 5);
        Assert.That(unet.ParameterCount(), Is.EqualTo(2_567_463_684L));
        TimeSpan init = watch.Elapsed;

        using var scope = Torch.NewScope();
        Tensor x = Torch.Randn([1, 4, 128, 128], 0);
        Tensor context = Torch.Randn([1, 77, 2048], 1);
        Tensor y = SdxlSizeConditioning.ForLatent(128, 128).AdmVector(Torch.Randn([1, 1280], 2));
        Tensor eps = unet.Forward(x, Torch.FromArray<float>([999f]), context, y);
        Assert.That(eps.Shape, Is.EqualTo(new long[] { 1, 4, 128, 128 }));
        TensorCompare.Finite(eps);
        TestContext.Out.WriteLine($"init {init.TotalSeconds:F1} s, one step {(watch.Elapsed - init).TotalSeconds:F1} s");
    }
}
