using System.Diagnostics;
using System.Diagnostics.Metrics;
using CharacterGen.GraphRuntime.Observability;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.ModelCaching;

/// <summary>The model cache reports its hits, misses and load times (and a span per load) through <see cref="Telemetry"/>.</summary>
public sealed class ModelCacheTelemetryTests
{
    [Test]
    public void A_load_is_a_timed_miss_with_a_span_and_the_next_request_a_hit()
    {
        using var env = NodeTestEnvironment.Create();
        using var telemetry = new Telemetry();
        var lookups = new List<(long Value, string Result, string Kind)>();
        var loads = new List<(double Seconds, string Kind)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "charactergen.cache.lookups") lookups.Add((value, Tag(tags, "result"), Tag(tags, "kind")));
        });
        meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "charactergen.model.load.duration") loads.Add((value, Tag(tags, "kind")));
        });
        meters.Start();
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        using var cache = new ModelCache(telemetry: telemetry);
        string path = env.CheckpointPath(NodeTestEnvironment.Checkpoint);
        using (cache.Checkpoint(path)) { }
        using (cache.Checkpoint(path)) { }

        Assert.Multiple(() =>
        {
            Assert.That(lookups, Is.EqualTo(new[] { (1L, "miss", "checkpoint"), (1L, "hit", "checkpoint") }));
            Assert.That(loads, Has.Count.EqualTo(1));
            Assert.That(loads[0].Kind, Is.EqualTo("checkpoint"));
            Assert.That(loads[0].Seconds, Is.GreaterThan(0));
            Assert.That(spans.Select(s => s.OperationName), Is.EqualTo(new[] { "load checkpoint" }));
            Assert.That(spans[0].GetTagItem("charactergen.model.file"), Is.EqualTo(NodeTestEnvironment.Checkpoint));
        });
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
            if (tag.Key == key) return (string)tag.Value!;
        return "";
    }
}
