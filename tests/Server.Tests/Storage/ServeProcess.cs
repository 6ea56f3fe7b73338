using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// `charactergen serve` as a real child process (the built server next to the test's build output) on free ports, with
/// its output captured for failure messages. <see cref="KillHard"/> is kill -9: no shutdown code runs.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, int httpPort, int grpcPort)
    {
        _process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public int HttpPort { get; }
    public int GrpcPort { get; }
    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}/");
    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}/");

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The built `charactergen` executable: artifacts/bin/CharacterGen.Server/&lt;config&gt;/ beside the tests' folder.</summary>
    public static string Executable()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(testDir.Parent!.Parent!.FullName, "CharacterGen.Server", testDir.Name, "charactergen");
        if (!File.Exists(path)) Assert.Fail($"the server executable is not built at {path}");
        return path;
    }

    /// <param name="extraArgs">More `serve` arguments (e.g. --workflows).</param>
    /// <param name="environment">Extra environment variables (e.g. CHARACTERGEN_CHARACTERS__CHECKPOINT).</param>
    public static ServeProcess Start(string dataDir, string modelsDir, IEnumerable<string>? extraArgs = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        int grpcPort = FreePort(), httpPort = FreePort();
        while (httpPort == grpcPort) httpPort = FreePort();
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        foreach (var a in new[] { "serve", "--grpc-port", grpcPort.ToString(), "--http-port", httpPort.ToString(), "--data", dataDir, "--models", modelsDir })
            start.ArgumentList.Add(a);
        foreach (var a in extraArgs ?? []) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var serve = new ServeProcess(process, httpPort, grpcPort);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    /// <summary>Waits until GET /queue answers (the engine has restored its jobs by then).</summary>
    public async Task WaitReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited) Assert.Fail($"serve exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(HttpAddress, "/queue"), cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            await Task.Delay(50, cancellationToken);
        }
    }

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
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
