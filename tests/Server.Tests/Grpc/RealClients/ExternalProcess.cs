using System.Diagnostics;
using System.Text;

namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>Runs a client script to completion and captures its output.</summary>
public static class ExternalProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        }
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (output) output.AppendLine($"[killed after {timeout}]");
        }
        process.WaitForExit(); // flushes the redirected streams
        lock (output) return new Result(process.ExitCode, output.ToString());
    }

    /// <summary>True if <paramref name="fileName"/> runs and exits 0 (a probe for installed tools).</summary>
    public static async Task<bool> SucceedsAsync(string fileName, params string[] arguments)
    {
        try
        {
            return (await RunAsync(fileName, arguments, Environment.CurrentDirectory, TimeSpan.FromSeconds(60))).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
