using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>
/// The FLUX transformer against the independent PyTorch reference (Fixtures/make_flux_fixtures.py: a tiny FLUX-dev
/// with real head width 128, 2 double and 2 single blocks, BFL key names).
/// </summary>
public sealed class FluxModelTests
{
    private static string CheckpointPath => FixtureCheckpoint.Path("flux_tiny.weights.json");

    private static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(Path.Combine(ModelFixture.Directory, "flux_tiny_io.safetensors"));
        return file.LoadTensor(name);
    }

    [Test]
    public void DetectsTheTinyConfigurationFromShapes()
    {
        FluxConfig c = FluxCheckpointLoader.DetectConfig(CheckpointPath);
        Assert.That((c.InChannels, c.Hidden, c.Heads, c.DoubleBlocks, c.SingleBlocks, c.MlpHidden, c.ContextDim, c.VecDim),
            Is.EqualTo((16, 256, 2, 2, 2, 512, 32, 24)));
        Assert.That(c.AxesDim, Is.EqualTo(new[] { 16, 56, 56 }));
        Assert.That(c.GuidanceEmbed, Is.True, "guidance_in present: dev");
        Assert.That(c.QkvBias, Is.True);
    }

    [Test]
    public void ForwardMatchesPyTorchForABatch()
    {
        using var scope = Torch.NewScope();
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        Tensor output = model.Forward(Io("flux.x"), Io("flux.t"), Io("flux.context"), Io("flux.y"), Io("flux.guidance"));
        TensorCompare.Close(output, Io("flux.out"), 1e-4, "flux batch");
    }

    [Test]
    public void ForwardMatchesPyTorchOnAnOddLatentWithoutGuidance()
    {
        using var scope = Torch.NewScope();
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        Tensor output = model.Forward(Io("flux_odd.x"), Io("flux_odd.t"), Io("flux_odd.context"), Io("flux_odd.y"));
        TensorCompare.Close(output, Io("flux_odd.out"), 1e-4, "flux odd");
    }

    [Test]
    public void AllInOnePrefixLoadsTheSameWeightsAndSchnellIsDetectedWithoutGuidanceIn()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cg-flux-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var scope = Torch.NewScope();
            var tensors = new List<KeyValuePair<string, Tensor>>();
            using (var file = SafetensorsFile.Open(CheckpointPath))
                foreach (SafetensorsEntry e in file.Entries)
                    tensors.Add(new(FluxCheckpointLoader.AllInOnePrefix + e.Name, file.LoadTensor(e.Name)));
            string prefixed = Path.Combine(dir, "aio.safetensors");
            SafetensorsTensors.Save(prefixed, tensors, new Dictionary<string, string>());
            using (FluxModel model = FluxCheckpointLoader.Load(prefixed))
            {
                Tensor output = model.Forward(Io("flux.x"), Io("flux.t"), Io("flux.context"), Io("flux.y"), Io("flux.guidance"));
                TensorCompare.Close(output, Io("flux.out"), 1e-4, "prefixed");
            }
            Assert.That(ModelFamilyDetector.Detect(tensors.Select(t => t.Key)), Is.EqualTo(ModelFamily.FluxDiffusionModel));

            string schnell = Path.Combine(dir, "schnell.safetensors");
            SafetensorsTensors.Save(schnell, tensors.Where(t => !t.Key.Contains("guidance_in", StringComparison.Ordinal)).ToList(),
                new Dictionary<string, string>());
            Assert.That(FluxCheckpointLoader.DetectConfig(schnell).GuidanceEmbed, Is.False);
            using FluxModel s = FluxCheckpointLoader.Load(schnell);
            Assert.That(s.GuidanceIn, Is.Null);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AMissingBlockWeightIsNamed()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cg-flux-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var scope = Torch.NewScope();
            var tensors = new List<KeyValuePair<string, Tensor>>();
            using (var file = SafetensorsFile.Open(CheckpointPath))
                foreach (SafetensorsEntry e in file.Entries.Where(e => e.Name != "single_blocks.1.linear2.weight"))
                    tensors.Add(new(e.Name, file.LoadTensor(e.Name)));
            string broken = Path.Combine(dir, "broken.safetensors");
            SafetensorsTensors.Save(broken, tensors, new Dictionary<string, string>());
            var ex = Assert.Throws<CheckpointLoadException>(() => FluxCheckpointLoader.Load(broken).Dispose());
            Assert.That(ex!.Missing, Is.EqualTo(new[] { "single_blocks.1.linear2.weight" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void RepeatedForwardPassesLeakNoTensors()
    {
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        using var inputs = Torch.NewScope();
        Tensor x = Io("flux.x"), t = Io("flux.t"), c = Io("flux.context"), y = Io("flux.y"), g = Io("flux.guidance");
        using (Torch.NewScope()) model.Forward(x, t, c, y, g);
        long live = Tensor.LiveCount;
        for (int i = 0; i < 2; i++)
            using (Torch.NewScope()) model.Forward(x, t, c, y, g);
        Assert.That(Tensor.LiveCount, Is.EqualTo(live));
    }
}
