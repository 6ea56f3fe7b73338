using System.Globalization;
using System.Text.RegularExpressions;

namespace CharacterGen.Server.Tests.Telemetry;

/// <summary>The samples of a Prometheus text-format scrape: name, labels, value.</summary>
public sealed partial class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var match = SampleLine().Match(line);
            if (!match.Success) throw new FormatException("not a sample line: " + line);
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(match.Groups["labels"].Value))
                labels[label.Groups[1].Value] = Regex.Unescape(label.Groups[2].Value);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/> ("k=v").</summary>
    public double Value(string name, params string[] labels)
    {
        var found = Matching(name, labels).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"one sample {name}{{{string.Join(",", labels)}}} in:\n{Text}");
        return found[0];
    }

    public bool Contains(string name, params string[] labels) => Matching(name, labels).Any();

    private IEnumerable<double> Matching(string name, string[] labels) => _samples
        .Where(s => s.Name == name && labels.All(l => l.Split('=', 2) is [var k, var v] && s.Labels.GetValueOrDefault(k) == v))
        .Select(s => s.Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
