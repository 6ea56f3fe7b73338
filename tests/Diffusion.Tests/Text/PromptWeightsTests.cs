using System.Text.Json;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.Tests.Text;

public sealed class PromptWeightsTests
{
    [Test]
    public void ReferenceVectors()
    {
        Assert.That(PromptWeights.Parse("a (cat:1.2) dog"),
            Is.EqualTo(new[] { new WeightedText("a ", 1.0), new WeightedText("cat", 1.2), new WeightedText(" dog", 1.0) }));
        var nested = PromptWeights.Parse("((cat))");
        Assert.That(nested, Has.Count.EqualTo(1));
        Assert.That(nested[0].Text, Is.EqualTo("cat"));
        Assert.That(nested[0].Weight, Is.EqualTo(1.21).Within(1e-12));
        Assert.That(PromptWeights.Parse("\\(cat\\)"), Is.EqualTo(new[] { new WeightedText("(cat)", 1.0) }));
    }

    [Test]
    public void AnExplicitWeightReplacesTheOuterOne() =>
        Assert.That(PromptWeights.Parse("(a (b:0.5) c)"),
            Is.EqualTo(new[] { new WeightedText("a ", 1.1), new WeightedText("b", 0.5), new WeightedText(" c", 1.1) }));

    [Test]
    public void SquareBracketsAreText() =>
        Assert.That(PromptWeights.Parse("[simple] background"), Is.EqualTo(new[] { new WeightedText("[simple] background", 1.0) }));

    /// <summary>Every case of the fixture, computed by Python with ComfyUI's rules and Python's own float(), so the
    /// weights must match to the last bit (1.1 · 1.1 = 1.2100000000000002 there too).</summary>
    [Test]
    public void MatchTheReferenceParser()
    {
        Assert.Multiple(() =>
        {
            foreach (JsonElement c in ClipTestData.Cases("weights").EnumerateArray())
            {
                string prompt = c.GetProperty("prompt").GetString()!;
                var expected = c.GetProperty("segments").EnumerateArray()
                    .Select(s => new WeightedText(s[0].GetString()!, s[1].GetDouble())).ToArray();
                Assert.That(PromptWeights.Parse(prompt), Is.EqualTo(expected), prompt);
            }
        });
    }

    [TestCase("(a:inf)", double.PositiveInfinity)]
    [TestCase("(a:-Infinity)", double.NegativeInfinity)]
    [TestCase("(a:NaN)", double.NaN)]
    public void NonFiniteWeightsParseAsPythonFloatDoes(string prompt, double weight)
    {
        var runs = PromptWeights.Parse(prompt);
        Assert.That(runs.Single().Text, Is.EqualTo("a"));
        Assert.That(runs.Single().Weight, Is.EqualTo(weight));
    }

    [TestCase("1.5", 1.5), TestCase(" 2 ", 2.0), TestCase("1_000.000_5", 1000.0005), TestCase(".5", 0.5), TestCase("5.", 5.0)]
    [TestCase("-1e-3", -0.001), TestCase("+1E+2", 100.0), TestCase("1e1_0", 1e10), TestCase("\u0661\u0662", 12.0)]
    public void PythonFloatAccepts(string text, double value)
    {
        Assert.That(PythonFloat.TryParse(text, out double parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(value));
    }

    [TestCase(""), TestCase("."), TestCase("1_"), TestCase("_1"), TestCase("1__0"), TestCase("1._5"), TestCase("1e")]
    [TestCase("0x10"), TestCase("1,5"), TestCase("1.5.2"), TestCase("in"), TestCase("1 2"), TestCase("½")]
    public void PythonFloatRefuses(string text) => Assert.That(PythonFloat.TryParse(text, out _), Is.False);

    [Test]
    public void AbsurdNestingIsRefusedNotAStackOverflow()
    {
        string deep = new string('(', 5000) + "x" + new string(')', 5000);
        Assert.Throws<FormatException>(() => PromptWeights.Parse(deep));
        string fine = new string('(', 50) + "x" + new string(')', 50);
        Assert.That(PromptWeights.Parse(fine).Single().Weight, Is.EqualTo(Math.Pow(1.1, 50)).Within(1e-9));
    }
}
