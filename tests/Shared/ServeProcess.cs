using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CharacterGen.Tests.Shared;

/// <summary>
/// `charactergen serve` as a real child process on free loopback ports, for the tests that kill or signal it
/// (tests/Server.Tests) and the soak bench (bench/Soak.Bench), which link this one file. Its console output is kept
/// (the last <see cref="KeptLines"/> lines, for failure messages) and optionally written whole to a log file; fail/crit
/// lines are counted, so an error no client sees still shows. <see cref="KillHard"/> is kill -9 (no shutdown code
/// runs), <see cref="Terminate"/> is SIGTERM (graceful shutdown). Framework-free: failures throw.
/// </summary>
public sealed class ServeProcess : IDisposable
{
    public const int KeptLines = 5000;

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly StreamWriter? _log;
    private int _errorLines;

    private ServeProcess(Process process, StreamWriter? log, int httpPort, int grpcPort)
    {
        _process = process;
        _log = log;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public int HttpPort { get; }
    public int GrpcPort { get; }
    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}/");
    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}/");
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Log lines at Error or Critical so far (the console logger's fail: and crit: prefixes).</summary>
    public int ErrorLines => Volatile.Read(ref _errorLines);

    /// <summary>The console output so far (its last <see cref="KeptLines"/> lines).</summary>
    public string Output
    {
        get
        {
            lock (_output) return string.Join(Environment.NewLine, _output);
        }
    }

    /// <summary>
    /// The built `charactergen` beside the caller's build output: artifacts/bin/CharacterGen.Server/&lt;config&gt;/ when
    /// the caller runs from artifacts/bin/&lt;project&gt;/&lt;config&gt;/.
    /// </summary>
    public static string BuiltExecutable()
    {
        var callerDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(callerDir.Parent!.Parent!.FullName, "CharacterGen.Server", callerDir.Name, "charactergen");
        if (!File.Exists(path)) throw new FileNotFoundException($"the server executable is not built at {path}", path);
        return path;
    }

    /// <param name="extraArgs">More `serve` arguments (e.g. --workflows, --shutdown-timeout).</param>
    /// <param name="environment">Extra environment variables (e.g. CHARACTERGEN_CHARACTERS__CHECKPOINT).</param>
    /// <param name="executable">The server to run; default <see cref="BuiltExecutable"/>.</param>
    /// <param name="logFile">Also write every output line here.</param>
    public static ServeProcess Start(string dataDir, string modelsDir, IEnumerable<string>? extraArgs = null,
        IReadOnlyDictionary<string, string>? environment = null, string? executable = null, string? logFile = null)
    {
        int grpcPort = FreePort(), httpPort = FreePort();
        while (httpPort == grpcPort) httpPort = FreePort();
        Directory.CreateDirectory(dataDir);
        var start = new ProcessStartInfo(executable ?? BuiltExecutable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        foreach (var a in new[] { "serve", "--grpc-port", $"{grpcPort}", "--http-port", $"{httpPort}", "--data", dataDir, "--models", modelsDir })
            start.ArgumentList.Add(a);
        foreach (var a in extraArgs ?? []) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var log = logFile is null ? null : new StreamWriter(logFile) { AutoFlush = true };
        var serve = new ServeProcess(process, log, httpPort, grpcPort);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    /// <summary>Waits until GET /queue answers (the job store is open and the engine has restored its jobs by then).</summary>
    /// <exception cref="InvalidOperationException">The server exited first; the message holds its output.</exception>
    public async Task WaitReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"serve exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(HttpAddress, "/queue"), cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>SIGTERM: the server shuts down gracefully (see docs/operations.md). Returns at once.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0 && !_process.HasExited) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL, then wait for the process to be gone.</summary>
    public void KillHard()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false); // SIGKILL on Unix
        _process.WaitForExit();
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
        if (_log is not null) lock (_log) _log.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
            Interlocked.Increment(ref _errorLines);
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > KeptLines) _output.Dequeue();
        }
        if (_log is not null) lock (_log) _log.WriteLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
