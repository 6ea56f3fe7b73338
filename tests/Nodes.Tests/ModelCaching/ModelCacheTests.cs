using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.ModelCaching;

/// <summary>The model cache: one load per file, LRU bound, leases that outlive unloading, reload on change.</summary>
public sealed class ModelCacheTests
{
    private NodeTestEnvironment _env = null!;

    [SetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _env.WriteCheckpoint("second.safetensors", seed: 2);
    }

    [TearDown]
    public void TearDown() => _env.Dispose();

    [Test]
    public void A_checkpoint_is_read_once_and_every_loader_call_gets_handles_to_the_same_weights()
    {
        var first = _env.LoadCheckpoint();
        var second = _env.LoadCheckpoint();
        try
        {
            Assert.That(_env.Cache.LoadCount, Is.EqualTo(1));
            Assert.That(((ModelValue)second.Values[0]!).Unet, Is.SameAs(((ModelValue)first.Values[0]!).Unet));
            Assert.That(((VaeValue)second.Values[2]!).Vae, Is.SameAs(((VaeValue)first.Values[2]!).Vae));
        }
        finally { NodeTestEnvironment.DisposeAll(first, second); }
    }

    [Test]
    public void Unloading_keeps_weights_alive_until_the_last_handle_goes()
    {
        var loaded = _env.LoadCheckpoint();
        var model = (ModelValue)loaded.Values[0]!;
        Tensor weight = model.Unet.OutConv.Weight.Value;
        _env.Cache.Free();
        Assert.That(_env.Cache.Loaded, Is.Empty);
        Assert.That(weight.IsClosed, Is.False, "a MODEL value still holds the weights");

        ((IDisposable)loaded.Values[1]!).Dispose();
        ((IDisposable)loaded.Values[2]!).Dispose();
        Assert.That(weight.IsClosed, Is.False);
        model.Dispose();
        Assert.That(weight.IsClosed, Is.True, "the last handle released the weights");
        model.Dispose(); // idempotent
    }

    [Test]
    public void The_least_recently_used_checkpoint_is_unloaded_beyond_the_bound()
    {
        using var cache = new ModelCache(new ModelCacheOptions { MaxLoaded = 1 });
        string a = _env.CheckpointPath(NodeTestEnvironment.Checkpoint), b = _env.CheckpointPath("second.safetensors");
        var leaseA = cache.Checkpoint(a);
        Tensor weightA = leaseA.Value.Unet!.OutConv.Weight.Value;
        leaseA.Dispose();
        using (cache.Checkpoint(b)) { }
        Assert.That(cache.Loaded, Is.EqualTo(new[] { b }));
        Assert.That(weightA.IsClosed, Is.True);
        using (cache.Checkpoint(a)) { }
        Assert.That(cache.LoadCount, Is.EqualTo(3));
    }

    [Test]
    public void Auxiliary_models_are_bounded_apart_and_never_evict_a_checkpoint()
    {
        using var cache = new ModelCache(new ModelCacheOptions { MaxLoaded = 1, MaxAuxiliaryLoaded = 2 });
        string checkpoint = _env.CheckpointPath(NodeTestEnvironment.Checkpoint);
        string[] vision = [.. Enumerable.Range(0, 3).Select(i => Path.Combine(_env.Models.Root, "clip_vision", $"v{i}.safetensors"))];
        Directory.CreateDirectory(Path.GetDirectoryName(vision[0])!);
        for (int i = 0; i < vision.Length; i++) TestIpAdapters.WriteClipVision(vision[i], seed: (ulong)i);

        using (cache.Checkpoint(checkpoint)) { }
        foreach (string v in vision) using (cache.ClipVision(v)) { }
        Assert.That(cache.Loaded, Is.EquivalentTo(new[] { checkpoint, vision[1], vision[2] }),
            "the oldest encoder went; the checkpoint stays although it is the least recently used");
    }

    [Test]
    public void A_rewritten_file_is_loaded_again()
    {
        string path = _env.CheckpointPath(NodeTestEnvironment.Checkpoint);
        using (_env.Cache.Checkpoint(path)) { }
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        using (_env.Cache.Checkpoint(path)) { }
        Assert.That(_env.Cache.LoadCount, Is.EqualTo(2));
        Assert.That(_env.Cache.Loaded, Has.Count.EqualTo(1));
    }

    [Test]
    public void Loading_a_missing_checkpoint_names_it()
    {
        var error = Assert.Throws<FileNotFoundException>(() => _env.LoadCheckpoint("absent.safetensors"))!;
        Assert.That(error.Message, Does.Contain("absent.safetensors"));
    }

    [Test]
    public void VAELoader_loads_a_vae_file_from_the_vae_folder()
    {
        string dir = Path.Combine(_env.Models.Root, "vae");
        Directory.CreateDirectory(dir);
        using (Torch.NewScope()) CharacterGen.Diffusion.RandomWeights.TestCheckpoints.WriteVae(Path.Combine(dir, "tiny-vae.safetensors"), seed: 4);
        Assert.That(_env.Node("VAELoader").FindInput("vae_name")!.CurrentOptions(), Is.EqualTo(new[] { "tiny-vae.safetensors" }));
        using var vae = _env.Run<VaeValue>("VAELoader", ("vae_name", "tiny-vae.safetensors"));
        Assert.That(vae.DownscaleFactor, Is.EqualTo(8));
    }
}
