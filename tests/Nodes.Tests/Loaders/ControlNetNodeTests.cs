using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Nodes.Tests.Loaders;

/// <summary>The ControlNet loaders and apply nodes called directly: caching, difference nets, the chains they build.</summary>
public sealed class ControlNetNodeTests
{
    private NodeTestEnvironment _env = null!;
    private NodeOutput _loaded = null!;
    private Tensor _image = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _loaded = _env.LoadCheckpoint();
        using (Torch.NewScope()) TestControlNets.Write(NetPath("cn.safetensors"), TinySizes.Default.Unet, seed: 1);
        using var generator = new Generator(7);
        _image = Torch.Rand([1, 64, 48, 3], generator).DetachFromScope();
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _image.Dispose();
        NodeTestEnvironment.DisposeAll(_loaded);
        _env.Dispose();
    }

    private string NetPath(string name) => Path.Combine(_env.Models.Root, "controlnet", name);

    private ConditioningValue Encode(string text) => _env.Run<ConditioningValue>("CLIPTextEncode", ("text", text), ("clip", _loaded.Values[1]));

    [Test]
    public void The_loader_shares_one_cached_net()
    {
        using (Torch.NewScope()) TestControlNets.Write(NetPath("shared.safetensors"), TinySizes.Default.Unet, ControlNetKeyLayout.Ldm, seed: 2);
        long before = _env.Cache.LoadCount;
        using var a = _env.Run<ControlNetValue>("ControlNetLoader", ("control_net_name", "shared.safetensors"));
        using var b = _env.Run<ControlNetValue>("ControlNetLoader", ("control_net_name", "shared.safetensors"));
        Assert.That(b.Net, Is.SameAs(a.Net));
        Assert.That(_env.Cache.LoadCount, Is.EqualTo(before + 1));
        Assert.That(a.Net.Layout, Is.EqualTo(ControlNetKeyLayout.Ldm));
    }

    [Test]
    public void A_difference_net_gets_the_models_weights_added_back()
    {
        var model = (ModelValue)_loaded.Values[0]!;
        using var full = _env.Run<ControlNetValue>("ControlNetLoader", ("control_net_name", "cn.safetensors"));
        using (Torch.NewScope())
        {
            var unet = model.Unet.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Value);
            var tensors = full.Net.Model.NamedParameters().Select(p => new KeyValuePair<string, Tensor>(ControlNetLayout.LdmPrefix + p.Key,
                unet.TryGetValue(p.Key, out Tensor? u) ? p.Value.Value - u : p.Value.Value)).ToList();
            tensors.Add(new("difference", Torch.Zeros([1])));
            SafetensorsTensors.Save(NetPath("diff.safetensors"), tensors);
        }
        using var diff = _env.Run<ControlNetValue>("DiffControlNetLoader", ("model", model), ("control_net_name", "diff.safetensors"));
        using var raw = _env.Run<ControlNetValue>("ControlNetLoader", ("control_net_name", "diff.safetensors"));
        const string key = "input_blocks.1.0.in_layers.2.weight";
        float[] Weight(ControlNetValue v) => v.Net.Model.NamedParameters().Single(p => p.Key == key).Value.Value.ToArray<float>();
        Assert.That(Weight(diff), Is.EqualTo(Weight(full)).Within(1e-6));
        Assert.That(Weight(raw), Is.Not.EqualTo(Weight(full)).Within(1e-3), "without a model the stored differences load as they are");
        Assert.That(diff.Net, Is.Not.SameAs(raw.Net), "a difference net rebuilt for a model is not the cached one");
    }

    [Test]
    public void Apply_gives_positive_and_negative_one_shared_chain_and_a_second_apply_chains_onto_it()
    {
        using var pos = Encode("a cat");
        using var neg = Encode("blurry");
        using var net = _env.Run<ControlNetValue>("ControlNetLoader", ("control_net_name", "cn.safetensors"));
        NodeOutput first = _env.Run("ControlNetApplyAdvanced", ("positive", pos), ("negative", neg), ("control_net", net),
            ("image", _image), ("strength", 0.7), ("start_percent", 0.1), ("end_percent", 0.9));
        var (p1, n1) = ((ConditioningValue)first.Values[0]!, (ConditioningValue)first.Values[1]!);
        ControlChain chain = p1.Entries[0].Control!;
        Assert.That(n1.Entries[0].Control, Is.SameAs(chain));
        Assert.That((chain.Strength, chain.StartPercent, chain.EndPercent, chain.Previous), Is.EqualTo((0.7, 0.1, 0.9, (ControlChain?)null)));
        Assert.That(chain.Hint.Shape, Is.EqualTo(new long[] { 1, 3, 64, 48 }));

        NodeOutput second = _env.Run("ControlNetApplyAdvanced", ("positive", p1), ("negative", n1), ("control_net", net),
            ("image", _image), ("strength", 1.0), ("start_percent", 0.0), ("end_percent", 1.0));
        var (p2, n2) = ((ConditioningValue)second.Values[0]!, (ConditioningValue)second.Values[1]!);
        Assert.That(p2.Entries[0].Control!.Previous, Is.SameAs(chain));
        Assert.That(n2.Entries[0].Control, Is.SameAs(p2.Entries[0].Control));

        NodeOutput zero = _env.Run("ControlNetApplyAdvanced", ("positive", pos), ("negative", neg), ("control_net", net),
            ("image", _image), ("strength", 0.0), ("start_percent", 0.0), ("end_percent", 1.0));
        Assert.That(((ConditioningValue)zero.Values[0]!).Entries[0].Control, Is.Null);
        Assert.That(((ConditioningValue)zero.Values[0]!).Entries[0].Cond.ToArray<float>(), Is.EqualTo(pos.Entries[0].Cond.ToArray<float>()));

        using var old = _env.Run<ConditioningValue>("ControlNetApply", ("conditioning", p1), ("control_net", net), ("image", _image), ("strength", 0.5));
        Assert.That(old.Entries[0].ControlApplyToUncond, Is.True);
        Assert.That(old.Entries[0].Control!.Previous, Is.SameAs(chain));
        NodeTestEnvironment.DisposeAll(first, second, zero);
    }

    [Test]
    public void A_checkpoint_in_the_controlnet_folder_is_refused_naming_both_kinds()
    {
        File.Copy(_env.CheckpointPath(NodeTestEnvironment.Checkpoint), NetPath("not-a-cn.safetensors"), overwrite: true);
        var e = Assert.Throws<CheckpointLoadException>(() => _env.Run("ControlNetLoader", ("control_net_name", "not-a-cn.safetensors")))!;
        Assert.That(e.Message, Does.Contain("ControlNet").And.Contain("Stable Diffusion 1.x checkpoint"));
    }
}
