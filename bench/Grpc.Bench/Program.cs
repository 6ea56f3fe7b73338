using System.Globalization;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Grpc.Bench;
using CharacterGen.Grpc.Bench.Protos;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Hosting;

// serve  --port P [--watch-events N]   our server (CharacterGenHost, as `serve` builds it) + the bench service;
//                                       with --watch-events, a finished job with N progress events to Watch.
// client --address H:P --label L [--calls 10000] [--warmup 1000] [--events 200000] [--rounds 3] [--watch-job ID]
var options = ParseOptions(args.Skip(1));
switch (args.FirstOrDefault())
{
    case "serve": await ServeAsync(options); break;
    case "client": await ClientAsync(options); break;
    default: Console.Error.WriteLine("usage: serve --port P [--watch-events N] | client --address H:P --label L [...]"); return 2;
}
return 0;

static async Task ServeAsync(Dictionary<string, string> options)
{
    var root = Path.Combine(Path.GetTempPath(), "cg-grpc-bench-" + Environment.ProcessId);
    var server = new ServerOptions
    {
        GrpcPort = int.Parse(options["port"], CultureInfo.InvariantCulture),
        HttpPort = 0,
        DataDir = Path.Combine(root, "data"),
        ModelsDir = Path.Combine(root, "models"),
        WorkflowsDir = Path.Combine(root, "workflows"),
        Engine = new EngineOptions { CacheSize = 0 },
    };
    await using var app = CharacterGenHost.Build(server, builder =>
    {
        // The dispatcher logs one line per call at Information; console logging would be what we measure.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(new NodeCatalog([Ticks()]));
        builder.Services.AddGrpcService<BenchService>();
    });
    await app.StartAsync();

    var watchJob = "";
    if (options.TryGetValue("watch-events", out var ticks))
    {
        var engine = app.Services.GetRequiredService<WorkflowEngine>();
        var submitted = engine.Submit("""{"1": {"class_type": "Ticks", "inputs": {"count": """ + ticks + "}}}");
        await engine.WaitAsync(submitted.JobId!);
        watchJob = submitted.JobId!;
    }
    Console.WriteLine($"READY watch_job={watchJob}");
    var stop = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
    AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
    await Task.WhenAny(stop.Task, Task.Run(() => Console.In.ReadToEnd())); // stdin closed or signal: stop
    await app.StopAsync();
    Directory.Delete(root, recursive: true);
}

static async Task ClientAsync(Dictionary<string, string> options)
{
    int Option(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    var label = options.GetValueOrDefault("label", options["address"]);
    var events = Option("events", 200_000);
    var rounds = Option("rounds", 3);
    using var client = new BenchClient(new Uri("http://" + options["address"]));

    var latency = await client.PingAsync(Option("warmup", 1000), Option("calls", 10_000));
    var throughput = new List<double>();
    await client.StreamAsync("/cgbench.v1.Bench/Events", new EventsRequest { Count = events / 10 }, events / 10); // warm-up
    for (var i = 0; i < rounds; i++)
        throughput.Add(await client.StreamAsync("/cgbench.v1.Bench/Events", new EventsRequest { Count = events }, events));
    throughput.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {label} | {latency.P50Us:0} µs | {latency.P99Us:0} µs | {latency.MeanUs:0} µs | {throughput[rounds / 2]:N0} events/s | {throughput[^1]:N0} events/s |"));

    if (options.TryGetValue("watch-job", out var job) && job.Length > 0)
    {
        var watch = new List<double>();
        for (var i = 0; i < rounds + 1; i++)
            watch.Add(await client.StreamAsync("/charactergen.v1.Workflows/Watch", new WatchRequest { JobId = job }, Option("watch-events", 1)));
        watch = watch.Skip(1).Order().ToList(); // first round is the warm-up
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label}: Workflows/Watch of a finished job (real event mapping) | | | | {watch[watch.Count / 2]:N0} events/s | {watch[^1]:N0} events/s |"));
    }
}

static Dictionary<string, string> ParseOptions(IEnumerable<string> args)
{
    var list = args.ToList();
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < list.Count; i += 2) result[list[i].TrimStart('-')] = list[i + 1];
    return result;
}

// A node that only reports progress: `count` NodeProgress events, as a sampler does per step.
static NodeDefinition Ticks() => new NodeBuilder("Ticks").OutputNode()
    .Required(InputSpec.Int("count", 1, 1, 10_000_000))
    .Execute((ctx, i) =>
    {
        var count = i.Get<long>("count");
        for (var s = 1; s <= count; s++) ctx.ReportProgress(s, count);
        return NodeOutput.Empty;
    })
    .Build();
