using System.Globalization;

namespace CharacterGen.Soak.Bench;

/// <summary>What the kernel says about a process: resident memory (VmRSS), threads, open file descriptors.</summary>
public readonly record struct ProcessSample(long RssBytes, int Threads, int Fds)
{
    public double RssMiB => RssBytes / (1024.0 * 1024.0);

    /// <summary>Reads /proc/PID/status and counts /proc/PID/fd (Linux only).</summary>
    public static ProcessSample Read(int pid)
    {
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) * 1024;
            else if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = int.Parse(Value(line), CultureInfo.InvariantCulture);
        }
        var fds = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
        return new ProcessSample(rss, threads, fds);
    }

    private static string Value(string line) => line[(line.IndexOf(':') + 1)..].Trim();

    // "VmRSS:    123456 kB"
    private static long Kilobytes(string line) => long.Parse(Value(line).Split(' ')[0], CultureInfo.InvariantCulture);
}
