using System.Diagnostics;
using System.Globalization;
using CharacterGen.Protos.V1;
using CharacterGen.Soak.Bench;
using CharacterGen.Tests.Shared;
using Grpc.Net.Client;

// Soak acceptance of issue #10 against `charactergen serve` as a child process (Linux: reads /proc).
//   [--jobs 1000]        sequential tiny jobs, alternately over ComfyUI HTTP (odd) and gRPC Workflows.Run (even)
//   [--job-minutes M]    stop the sequential jobs after M minutes (reported as fewer jobs: the check fails)
//   [--watchers 1000] [--watch-steps 20] [--blocker-steps 100] [--blocker-size 64] [--keep]
//   [--free-at-end]      diagnostic: after the jobs, POST /free {"free_memory": true} (GC + malloc_trim), sample again
//   [--history-size N]   passed to serve (default: serve's, 1000 finished jobs)
//   [--server PATH]      default: artifacts/bin/CharacterGen.Server/release/charactergen
// Prints a markdown table; exits 1 when an acceptance limit is violated.
var options = ParseOptions(args);
int Option(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
int jobCount = Option("jobs", 1000), watchers = Option("watchers", 1000), jobMinutes = Option("job-minutes", 0);
const long RssGrowthLimit = 50_000_000;          // issue #10: under 50 MB after the first 100 jobs
const int ThreadTolerance = 8, FdTolerance = 4; // "flat": thread-pool and connection churn, not growth with jobs
const long StormPeakLimit = 256L * 1024 * 1024; // "bounded": at most 256 KiB per stream at 1,000 streams
const int Baseline = 100;

var repo = RepositoryRoot();
var executable = options.GetValueOrDefault("server", Path.Combine(repo, "artifacts", "bin", "CharacterGen.Server", "release", "charactergen"));
var root = Directory.CreateTempSubdirectory("cg-soak-").FullName;
string dataDir = Path.Combine(root, "data"), modelsDir = Path.Combine(root, "models");
Directory.CreateDirectory(dataDir);
await RunToEndAsync(executable, "make-test-checkpoint", "--family", "sd15", "--out", Path.Combine(modelsDir, "checkpoints", "tiny.safetensors"));

var log = Path.Combine(root, "serve.log");
using var server = ServeProcess.Start(dataDir, modelsDir,
    options.TryGetValue("history-size", out var historySize) ? ["--history-size", historySize] : [], executable: executable, logFile: log);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
using (var ready = new CancellationTokenSource(TimeSpan.FromMinutes(2))) await server.WaitReadyAsync(http, ready.Token);
// Kestrel allows 100 streams per HTTP/2 connection; the channel opens more connections rather than queueing calls.
using var channel = GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions
{
    HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
});
var grpc = new Workflows.WorkflowsClient(channel);
Console.WriteLine($"serve pid {server.Pid}, data {root}, log {log}");

// (1) Sequential tiny jobs, transports alternating (so both run whatever the time budget); a sample every 100 jobs.
var jobs = new TinyJobs(TinyJobs.Workflow(repo, steps: 1, size: 64), http, server.HttpAddress, grpc);
var samples = new List<(int Jobs, double Seconds, ProcessSample Sample)> { (0, 0, ProcessSample.Read(server.Pid)) };
var failures = new List<string>();
var clock = Stopwatch.StartNew();
var done = 0;
for (var i = 1; i <= jobCount; i++)
{
    var overHttp = i % 2 == 1;
    var error = overHttp ? await jobs.RunHttpAsync(seed: 10_000 + i) : await jobs.RunGrpcAsync(seed: 10_000 + i);
    if (error is not null) failures.Add($"job {i} ({(overHttp ? "HTTP" : "gRPC")}): {error}");
    done = i;
    var outOfTime = jobMinutes > 0 && clock.Elapsed.TotalMinutes >= jobMinutes;
    if (i % 100 == 0 || i == jobCount || outOfTime)
    {
        samples.Add((i, clock.Elapsed.TotalSeconds, ProcessSample.Read(server.Pid)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i} jobs, {clock.Elapsed.TotalSeconds:0} s, RSS {samples[^1].Sample.RssMiB:0.0} MiB, threads {samples[^1].Sample.Threads}, fds {samples[^1].Sample.Fds}, {failures.Count} failed"));
    }
    if (server.HasExited) { failures.Add($"serve exited after job {i}"); break; }
    if (outOfTime) break;
}
var jobSeconds = clock.Elapsed.TotalSeconds;
ProcessSample? afterFree = null;
if (options.ContainsKey("free-at-end") && !server.HasExited)
{
    using var free = await http.PostAsync(new Uri(server.HttpAddress, "/free"), new StringContent("""{"free_memory": true}"""));
    await Task.Delay(TimeSpan.FromSeconds(3)); // /free answers before it has freed
    afterFree = ProcessSample.Read(server.Pid);
    Console.WriteLine($"after POST /free: RSS {afterFree.Value.RssMiB:0.0} MiB, threads {afterFree.Value.Threads}, fds {afterFree.Value.Fds}");
}

// (2) Concurrent Watch streams on one job.
WatchStorm.Result? storm = null;
if (!server.HasExited && watchers > 0)
{
    using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));
    storm = await new WatchStorm(grpc, server).RunAsync(
        TinyJobs.Workflow(repo, steps: Option("blocker-steps", 100), size: Option("blocker-size", 64)),
        TinyJobs.Workflow(repo, steps: Option("watch-steps", 20), size: 64), watchers, guard.Token);
}

// Report.
// The sample after job 100 (or the first one, on a short run) is the baseline; growth is the largest later sample's.
var atBaseline = samples.FirstOrDefault(s => s.Jobs >= Math.Min(Baseline, done)).Sample;
var after = samples.Where(s => s.Jobs >= Math.Min(Baseline, done)).Select(s => s.Sample).ToList();
var rssGrowth = after.Max(s => s.RssBytes) - atBaseline.RssBytes;
var threadGrowth = after.Max(s => s.Threads) - atBaseline.Threads;
var fdGrowth = after.Max(s => s.Fds) - atBaseline.Fds;

Console.WriteLine();
Console.WriteLine("| jobs done | elapsed | RSS | threads | open fds |");
Console.WriteLine("|---:|---:|---:|---:|---:|");
foreach (var (n, seconds, s) in samples)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {seconds:0} s | {s.RssMiB:0.0} MiB | {s.Threads} | {s.Fds} |"));
Console.WriteLine();

var checks = new List<(string What, string Measured, bool Held)>
{
    ($"{jobCount} sequential jobs ({(jobCount + 1) / 2} HTTP, {jobCount / 2} gRPC) succeed",
        string.Create(CultureInfo.InvariantCulture, $"{done} run, {failures.Count} failed, {jobSeconds:0} s ({done / jobSeconds:0.00} jobs/s)"),
        failures.Count == 0 && done == jobCount),
    ($"RSS growth after job {Baseline} < 50 MB (max of later samples)", Mb(rssGrowth), rssGrowth < RssGrowthLimit),
    ($"threads flat after job {Baseline} (≤ +{ThreadTolerance})", Signed(threadGrowth), threadGrowth <= ThreadTolerance),
    ($"open fds flat after job {Baseline} (≤ +{FdTolerance})", Signed(fdGrowth), fdGrowth <= FdTolerance),
};
if (storm is not null)
{
    checks.Add(($"{storm.Streams} concurrent Watch streams each get all {storm.Events} events, ending in succeeded",
        $"{storm.Complete}/{storm.Streams} complete; all attached while the job was pending: {(storm.AttachedWhilePending ? "yes" : "no")} ({storm.AttachSeconds:0.0} s), done in {storm.TotalSeconds:0.0} s",
        storm.Complete == storm.Streams));
    checks.Add(("RSS during the Watch storm bounded (peak − before ≤ 256 MiB)",
        $"before {storm.Before.RssMiB:0.0} MiB, peak {storm.PeakRssBytes / 1048576.0:0.0} MiB, after {storm.After.RssMiB:0.0} MiB; threads {storm.Before.Threads} → {storm.After.Threads}, fds {storm.Before.Fds} → {storm.After.Fds}",
        storm.PeakRssBytes - storm.Before.RssBytes <= StormPeakLimit));
}
checks.Add(("server logged no fail/crit lines", $"{server.ErrorLines}", server.ErrorLines == 0));

Console.WriteLine("| acceptance check | measured | held |");
Console.WriteLine("|---|---|---|");
foreach (var (what, measured, held) in checks) Console.WriteLine($"| {what} | {measured} | {(held ? "yes" : "**NO**")} |");
foreach (var f in failures.Take(10)) Console.WriteLine($"failure: {f}");
foreach (var p in storm?.Problems ?? []) Console.WriteLine($"watch: {p}");

var allHeld = checks.All(c => c.Held);
if (allHeld && !options.ContainsKey("keep")) Directory.Delete(root, recursive: true);
else Console.WriteLine($"kept {root} (serve.log there)");
return allHeld ? 0 : 1;

static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:+0.0;-0.0;0.0} MB");
static string Signed(int n) => n.ToString("+0;-0;0", CultureInfo.InvariantCulture);

static async Task RunToEndAsync(string executable, params string[] arguments)
{
    var start = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = true };
    foreach (var a in arguments) start.ArgumentList.Add(a);
    using var process = Process.Start(start)!;
    await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{executable} {string.Join(' ', arguments)} exited with {process.ExitCode}");
}

static Dictionary<string, string> ParseOptions(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        var name = args[i].TrimStart('-');
        result[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
    }
    return result;
}

static string RepositoryRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("CharacterGen.sln not found above the bench's directory");
}
