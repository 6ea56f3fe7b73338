using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CharacterGen.Soak.Bench;

/// <summary>
/// `charactergen serve` as a child process on free loopback ports, its console output written to a log file (and
/// its fail/crit lines counted, so an error the client never sees still shows up in the results).
/// </summary>
public sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private int _errorLines;

    private ServeProcess(Process process, StreamWriter log, int httpPort, int grpcPort)
    {
        _process = process;
        _log = log;
        HttpAddress = new Uri($"http://127.0.0.1:{httpPort}/");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}/");
    }

    public Uri HttpAddress { get; }
    public Uri GrpcAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Log lines at Error or Critical so far.</summary>
    public int ErrorLines => Volatile.Read(ref _errorLines);

    public ProcessSample Sample() => ProcessSample.Read(_process.Id);

    public static ServeProcess Start(string executable, string dataDir, string modelsDir, string logFile, IEnumerable<string> extraArgs)
    {
        int grpcPort = FreePort(), httpPort = FreePort();
        while (httpPort == grpcPort) httpPort = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        foreach (var a in new[] { "serve", "--grpc-port", $"{grpcPort}", "--http-port", $"{httpPort}", "--data", dataDir, "--models", modelsDir })
            start.ArgumentList.Add(a);
        foreach (var a in extraArgs) start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var serve = new ServeProcess(process, new StreamWriter(logFile) { AutoFlush = true }, httpPort, grpcPort);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    /// <summary>Waits until GET /queue answers (the job store is open and the engine runs by then).</summary>
    public async Task WaitReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"serve exited with {_process.ExitCode}; see the log");
            try
            {
                using var response = await http.GetAsync(new Uri(HttpAddress, "/queue"), cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            await Task.Delay(100, cancellationToken);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        // The console logger's level prefixes.
        if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
            Interlocked.Increment(ref _errorLines);
        lock (_log) _log.WriteLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
