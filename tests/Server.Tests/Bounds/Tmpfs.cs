using System.Diagnostics;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// A small tmpfs mounted on a fresh folder, to run out of disk space for real. Mounting needs root (CI runs as root on
/// Debian); where it is not allowed the test is reported inconclusive with the reason, never silently passed.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    public static Tmpfs Mount(long bytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cg-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (exit, output) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        if (exit != 0)
        {
            Directory.Delete(path);
            Assert.Inconclusive($"Skipped: mounting a {bytes}-byte tmpfs is not allowed here (needs root): {output.Trim()}");
        }
        return new Tmpfs(path);
    }

    /// <summary>The file <see cref="Fill"/> writes.</summary>
    public const string FillerName = "filler.bin";

    /// <summary>Fills the file system until only <paramref name="leaveBytes"/> (rounded to pages) remain free.</summary>
    public void Fill(long leaveBytes)
    {
        long free = new DriveInfo(Path).AvailableFreeSpace;
        using var filler = new FileStream(System.IO.Path.Combine(Path, FillerName), FileMode.Create);
        var page = new byte[4096];
        for (long left = free - leaveBytes; left > 0; left -= page.Length) filler.Write(page, 0, (int)Math.Min(page.Length, left));
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
