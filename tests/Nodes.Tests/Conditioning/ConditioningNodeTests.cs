using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Conditioning;

/// <summary>ConditioningCombine, ConditioningConcat, ConditioningZeroOut, ConditioningSetArea and ImpactConcatConditionings.</summary>
public sealed class ConditioningNodeTests
{
    private NodeTestEnvironment _env = null!;

    [OneTimeSetUp]
    public void SetUp() => _env = NodeTestEnvironment.Create(withCheckpoint: false);

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    private static ConditioningValue Cond(float value, long tokens = 77, long width = 8, float pooled = 0) =>
        new([new ConditioningEntry(Torch.Full([1, tokens, width], value), Torch.Full([1, width], pooled))]);

    private static float[] Values(Tensor t) => t.Contiguous().ToArray<float>();

    [Test]
    public void Combine_lists_both_entries_in_order_with_their_own_handles()
    {
        using var scope = Torch.NewScope();
        using ConditioningValue a = Cond(1), b = Cond(2);
        using var combined = _env.Run<ConditioningValue>("ConditioningCombine", ("conditioning_1", a), ("conditioning_2", b));

        Assert.That(combined.Count, Is.EqualTo(2));
        Assert.That(Values(combined.Entries[0].Cond), Is.All.EqualTo(1f));
        Assert.That(Values(combined.Entries[1].Cond), Is.All.EqualTo(2f));
        Assert.That(combined.Entries[0].Cond, Is.Not.SameAs(a.Entries[0].Cond), "an output owns its handles");
        a.Dispose();
        Assert.That(Values(combined.Entries[0].Cond), Is.All.EqualTo(1f), "still readable after the input is gone");
    }

    [Test]
    public void Concat_appends_the_first_from_entry_along_the_tokens_and_keeps_the_to_dict()
    {
        using var scope = Torch.NewScope();
        using var to = new ConditioningValue([
            new ConditioningEntry(Torch.Full([1, 77, 8], 1f), Torch.Full([1, 8], 5f), new ConditioningArea(8, 8, 0, 0), 0.5),
            new ConditioningEntry(Torch.Full([1, 77, 8], 3f), null),
        ]);
        using var from = new ConditioningValue([
            new ConditioningEntry(Torch.Full([1, 154, 8], 2f), Torch.Full([1, 8], 9f)),
            new ConditioningEntry(Torch.Full([1, 77, 8], 7f), null),
        ]);
        using var result = _env.Run<ConditioningValue>("ConditioningConcat", ("conditioning_to", to), ("conditioning_from", from));

        Assert.That(result.Count, Is.EqualTo(2));
        ConditioningEntry first = result.Entries[0];
        Assert.That(first.Cond.Shape, Is.EqualTo(new long[] { 1, 231, 8 }));
        Assert.That(Values(first.Cond.Narrow(1, 0, 77)), Is.All.EqualTo(1f));
        Assert.That(Values(first.Cond.Narrow(1, 77, 154)), Is.All.EqualTo(2f), "only the first from entry is used");
        Assert.That(Values(first.Pooled!), Is.All.EqualTo(5f), "the to entry's pooled output is kept");
        Assert.That(first.Area, Is.EqualTo(new ConditioningArea(8, 8, 0, 0)));
        Assert.That(first.Strength, Is.EqualTo(0.5));
        Assert.That(Values(result.Entries[1].Cond.Narrow(1, 77, 154)), Is.All.EqualTo(2f));
    }

    [Test]
    public void ZeroOut_zeroes_the_tokens_and_the_pooled_output()
    {
        using var scope = Torch.NewScope();
        using var input = Cond(3, pooled: 4);
        using var zero = _env.Run<ConditioningValue>("ConditioningZeroOut", ("conditioning", input));

        Assert.That(zero.Entries[0].Cond.Shape, Is.EqualTo(input.Entries[0].Cond.Shape));
        Assert.That(Values(zero.Entries[0].Cond), Is.All.EqualTo(0f));
        Assert.That(Values(zero.Entries[0].Pooled!), Is.All.EqualTo(0f));
        Assert.That(Values(input.Entries[0].Cond), Is.All.EqualTo(3f), "the input is untouched");
    }

    [Test]
    public void SetArea_stores_the_area_in_latent_cells_and_the_strength()
    {
        using var scope = Torch.NewScope();
        using var input = Cond(1);
        using var area = _env.Run<ConditioningValue>("ConditioningSetArea", ("conditioning", input),
            ("width", 256L), ("height", 128L), ("x", 64L), ("y", 200L), ("strength", 0.7));

        Assert.That(area.Entries[0].Area, Is.EqualTo(new ConditioningArea(Height: 16, Width: 32, Y: 25, X: 8)));
        Assert.That(area.Entries[0].Strength, Is.EqualTo(0.7));
        Assert.That(input.Entries[0].Area, Is.Null);
        Assert.That(Values(area.Entries[0].Cond), Is.All.EqualTo(1f));
    }

    [Test]
    public void ImpactConcatConditionings_concatenates_every_dynamic_input_in_order()
    {
        using var scope = Torch.NewScope();
        using ConditioningValue a = Cond(1), b = Cond(2), c = Cond(3, tokens: 154);
        using var result = _env.Run<ConditioningValue>("ImpactConcatConditionings",
            ("conditioning1", a), ("conditioning2", b), ("conditioning3", c));

        Tensor tokens = result.Entries[0].Cond;
        Assert.That(tokens.Shape, Is.EqualTo(new long[] { 1, 308, 8 }));
        Assert.That(Values(tokens.Narrow(1, 0, 77)), Is.All.EqualTo(1f));
        Assert.That(Values(tokens.Narrow(1, 77, 77)), Is.All.EqualTo(2f));
        Assert.That(Values(tokens.Narrow(1, 154, 154)), Is.All.EqualTo(3f));
    }

    [Test]
    public void ImpactConcatConditionings_with_one_input_returns_it()
    {
        using var scope = Torch.NewScope();
        using var a = Cond(1);
        using var result = _env.Run<ConditioningValue>("ImpactConcatConditionings", ("conditioning1", a));
        Assert.That(result.Entries[0].Cond.Shape, Is.EqualTo(new long[] { 1, 77, 8 }));
    }

    [Test]
    public void The_catalogue_declares_the_dynamic_conditioning_inputs()
    {
        var def = _env.Node("ImpactConcatConditionings");
        Assert.That(def.DynamicInputs!.Matches("conditioning2"), Is.True);
        Assert.That(def.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "conditioning1" }));
    }
}
