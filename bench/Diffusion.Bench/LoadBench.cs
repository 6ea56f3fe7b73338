using System.Diagnostics;
using System.Globalization;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// Peak resident memory and time to load the full-size SD1.5 checkpoint (the real names and shapes in float16, about
/// 2.1 GB, written once by <see cref="TestCheckpoints.WriteFullSizeSd15"/>) as float32 and as float16 weights, each in
/// a fresh process so the peaks do not mix. Usage: dotnet run -c Release -- load [FILE]
/// </summary>
public static class LoadBench
{
    public static void Run(string? file)
    {
        file ??= Path.Combine(Path.GetTempPath(), "charactergen-bench-sd15-fp16.safetensors");
        if (!File.Exists(file))
        {
            Console.WriteLine($"writing {file} …");
            TestCheckpoints.WriteFullSizeSd15(file);
        }
        Console.WriteLine($"{file}: {new FileInfo(file).Length / 1e9:0.00} GB");
        Console.WriteLine("| weights | peak RSS (VmHWM) | RSS after load | load time |");
        Console.WriteLine("|---|---|---|---|");
        foreach (string dtype in new[] { "float32", "float16" })
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!, [typeof(LoadBench).Assembly.Location, "load-one", file, dtype])
            { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) != "dotnet") psi.ArgumentList.RemoveAt(0);
            using var child = Process.Start(psi)!;
            Console.WriteLine(child.StandardOutput.ReadToEnd().TrimEnd());
            child.WaitForExit();
        }
    }

    /// <summary>The child: loads once and prints one table row.</summary>
    public static void RunOne(string file, string dtype)
    {
        // As the server: the caching CPU allocator (TorchSetup.ConfigureAllocator), unless CHARACTERGEN_CPU_CACHE_MB=0.
        bool caching = Environment.GetEnvironmentVariable("CHARACTERGEN_CPU_CACHE_MB") is not "0";
        if (caching) HostMemory.UseCachingAllocator(8L << 30);
        long baseline = Status("VmRSS");
        var watch = Stopwatch.StartNew();
        using var checkpoint = CheckpointLoader.Load(file, Enum.Parse<DType>(dtype, ignoreCase: true));
        watch.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {dtype}{(caching ? "" : ", libtorch's allocator")} | {Status("VmHWM") / 1e9:0.00} GB | {Status("VmRSS") / 1e9:0.00} GB (before: {baseline / 1e9:0.00} GB; kept for reuse: {HostMemory.CachedBytes() / 1e9:0.00} GB) | {watch.Elapsed.TotalSeconds:0.0} s |"));
    }

    private static long Status(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return -1;
    }
}
