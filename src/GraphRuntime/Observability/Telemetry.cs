using System.Diagnostics;
using System.Diagnostics.Metrics;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Observability;

/// <summary>
/// Every metric and span CharacterGen emits, behind a few hook methods the engine, the executor and the model cache
/// call (a null <see cref="Telemetry"/> means none). Plain System.Diagnostics: a host exports them with
/// OpenTelemetry (Prometheus, OTLP) by listening to <see cref="Name"/>; nothing here knows about exporters.
/// Instruments belong to this instance's <see cref="Meter"/>, so a disposed host stops reporting.
/// </summary>
public sealed class Telemetry : IDisposable
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "CharacterGen";

    /// <summary>Spans: one per job ("job"), one per executed node ("node CLASS", a child of its job), model loads.</summary>
    public static readonly ActivitySource Source = new(Name, Version);

    private static string? Version => typeof(Telemetry).Assembly.GetName().Version?.ToString(3);

    // Seconds, from a cached node (~0) to a long training run; OpenTelemetry's default buckets are for milliseconds.
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private readonly Meter _meter = new(Name, Version);
    private readonly Counter<long> _jobs;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<double> _nodeDuration;
    private readonly Histogram<double> _stepDuration;
    private readonly Histogram<double> _modelLoad;
    private readonly Counter<long> _cacheLookups;

    public Telemetry()
    {
        _jobs = _meter.CreateCounter<long>("charactergen.jobs", "{job}", "Finished jobs by outcome (succeeded, failed, cancelled)");
        _queueTime = Seconds("charactergen.job.queue_time", "Time a job waited in the queue before it started");
        _jobDuration = Seconds("charactergen.job.duration", "Time a job ran, by outcome");
        _nodeDuration = Seconds("charactergen.node.duration", "Time an executed node ran (cache hits excluded), by class_type");
        _stepDuration = Seconds("charactergen.node.step.duration", "Time between a node's progress ticks (sampler or training steps), by class_type");
        _modelLoad = Seconds("charactergen.model.load.duration", "Time to read a model file into memory, by kind");
        _cacheLookups = _meter.CreateCounter<long>("charactergen.cache.lookups", "{lookup}",
            "Cache lookups by cache (outputs: node outputs; models: loaded weights) and result (hit, miss)");
    }

    /// <summary>Jobs waiting to run, read when a reader collects.</summary>
    public void ObserveQueueDepth(Func<int> pending) =>
        _meter.CreateObservableGauge("charactergen.queue.depth", pending, "{job}", "Jobs waiting in the queue (not counting the running one)");

    /// <summary>Device memory, read when a reader collects: bytes allocated by live tensors and reserved by the allocator.</summary>
    public void ObserveDeviceMemory(Func<IEnumerable<DeviceMemory>> read) =>
        _meter.CreateObservableGauge("charactergen.device.memory", () => read().SelectMany(d => new[]
        {
            new Measurement<long>(d.Allocated, new("device", d.Device), new("state", "allocated")),
            new Measurement<long>(d.Reserved, new("device", d.Device), new("state", "reserved")),
        }), "By", "Device memory by device and state (allocated: live tensors; reserved: held by the caching allocator)");

    /// <summary>Tensors alive in the process (a leak shows as a count that keeps growing between jobs).</summary>
    public void ObserveLiveTensors(Func<long> count) =>
        _meter.CreateObservableGauge("charactergen.tensors.live", count, "{tensor}", "Tensors alive in the process");

    /// <summary>A job leaves the queue: records its wait and opens its span (a child of the request that submitted it).</summary>
    public JobScope StartJob(string jobId, ActivityContext submittedFrom, DateTimeOffset createdAt, DateTimeOffset startedAt)
    {
        _queueTime.Record(Math.Max(0, (startedAt - createdAt).TotalSeconds));
        // No submitter (a job restored after a restart): a root span, not a child of whatever is current here.
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity("job", ActivityKind.Internal, submittedFrom);
        Activity.Current = previous;
        activity?.SetTag("charactergen.job.id", jobId);
        return new JobScope(this, activity);
    }

    /// <summary>A job that never ran (cancelled while pending) still counts by outcome.</summary>
    public void JobEndedWithoutRunning(JobStatus outcome) => _jobs.Add(1, Outcome(outcome));

    private void JobFinished(JobScope scope, JobRunResult result, TimeSpan duration)
    {
        var outcome = Outcome(result.Status);
        _jobs.Add(1, outcome);
        _jobDuration.Record(duration.TotalSeconds, outcome);
        // Misses are counted as nodes start (a node that fails has no timing).
        if (result.Timings.Count(t => t.Cached) is var hits and > 0) _cacheLookups.Add(hits, new("cache", "outputs"), new("result", "hit"));
        if (scope.Activity is not { } activity) return;
        activity.SetTag("charactergen.job.outcome", outcome.Value);
        if (result.Status == JobStatus.Failed)
            activity.SetStatus(ActivityStatusCode.Error, result.Error?.ErrorType);
        activity.Stop();
    }

    /// <summary>A model file found loaded (a hit) or about to be read (a miss, timed by the returned scope's Dispose).</summary>
    public void ModelCacheHit(string kind) =>
        _cacheLookups.Add(1, new("cache", "models"), new("result", "hit"), new("kind", kind));

    public ModelLoadScope StartModelLoad(string kind, string path)
    {
        _cacheLookups.Add(1, new("cache", "models"), new("result", "miss"), new("kind", kind));
        var activity = Source.StartActivity("load " + kind); // a child of the node span on the execution thread
        activity?.SetTag("charactergen.model.file", Path.GetFileName(path));
        return new ModelLoadScope(this, kind, activity);
    }

    private Histogram<double> Seconds(string name, string description) =>
        _meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    private static KeyValuePair<string, object?> Outcome(JobStatus status) => new("outcome", status.ToString().ToLowerInvariant());

    public void Dispose() => _meter.Dispose();

    /// <summary>One running job: its span, and the spans of its nodes.</summary>
    public sealed class JobScope(Telemetry owner, Activity? activity)
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public Activity? Activity { get; } = activity;

        /// <summary>Called on the execution thread as a node starts (not for cache hits).</summary>
        public NodeScope StartNode(string nodeId, string classType)
        {
            owner._cacheLookups.Add(1, new("cache", "outputs"), new("result", "miss"));
            var node = Activity is null ? null : Source.StartActivity("node " + classType, ActivityKind.Internal, Activity.Context);
            node?.SetTag("charactergen.node.id", nodeId);
            node?.SetTag("charactergen.node.class_type", classType);
            return new NodeScope(owner, classType, node);
        }

        public void Finish(JobRunResult result) => owner.JobFinished(this, result, Stopwatch.GetElapsedTime(_started));
    }

    /// <summary>One executing node: its span, its duration, and the time between its progress ticks.</summary>
    public sealed class NodeScope(Telemetry owner, string classType, Activity? activity) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private long _lastTick = Stopwatch.GetTimestamp();

        /// <summary>A progress tick: the time since the previous one (or the node's start) is one step.</summary>
        public void Step()
        {
            var now = Stopwatch.GetTimestamp();
            owner._stepDuration.Record(Stopwatch.GetElapsedTime(_lastTick, now).TotalSeconds, new KeyValuePair<string, object?>("class_type", classType));
            _lastTick = now;
        }

        public void Failed(Exception error) => activity?.SetStatus(ActivityStatusCode.Error, error.GetType().Name);

        public void Dispose()
        {
            owner._nodeDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>("class_type", classType));
            activity?.Stop();
        }
    }

    /// <summary>A model file being read; Dispose records the load time.</summary>
    public sealed class ModelLoadScope(Telemetry owner, string kind, Activity? activity) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            owner._modelLoad.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>("kind", kind));
            activity?.Stop();
        }
    }
}

/// <summary>One device's memory figures for <see cref="Telemetry.ObserveDeviceMemory"/>.</summary>
public readonly record struct DeviceMemory(string Device, long Allocated, long Reserved);
