namespace CharacterGen.Tensors.Tests;

/// <summary>
/// cg_memory_trim (issue #10: after /free the server's memory was not given back). glibc keeps freed heap chunks
/// that sit between live ones; malloc_trim returns their pages. And the caching CPU allocator (issue #18): freed large
/// blocks are reused without page faults, stay under the cap, are not counted as in use, and go back on trim.
/// </summary>
public sealed class HostMemoryTests
{
    [Test]
    public void Trim_returns_freed_heap_pages_that_free_alone_keeps()
    {
        const int count = 60_000, keepEvery = 16; // 4 KiB tensors; one kept in 16 pins the heap around the gaps
        var kept = new List<Tensor>();
        long beforeTrim;
        using (Torch.NewScope())
        {
            for (int i = 0; i < count; i++)
            {
                Tensor t = Torch.Ones([1024]);
                if (i % keepEvery == 0) kept.Add(t.DetachFromScope());
            }
        }
        try
        {
            beforeTrim = ResidentBytes();
            HostMemory.Trim();
            long afterTrim = ResidentBytes();
            Assert.That(beforeTrim - afterTrim, Is.GreaterThan(100L << 20),
                $"resident {beforeTrim >> 20} MiB before the trim, {afterTrim >> 20} MiB after");
        }
        finally
        {
            foreach (var t in kept) t.Dispose();
        }
    }

    [Test]
    public void The_caching_allocator_reuses_freed_blocks_without_faults_and_trim_returns_them()
    {
        HostMemory.UseCachingAllocator(256L << 20);
        const long elements = 6L << 20; // 24 MiB of float32
        long inUse = HostMemory.InUseBytes()!.Value;
        using (Torch.NewScope()) Assert.That(Torch.Ones([elements]).Sum().Item(), Is.EqualTo(elements));
        Assert.That(HostMemory.CachedBytes(), Is.GreaterThanOrEqualTo(24L << 20), "the freed block is kept");
        Assert.That(Math.Abs(HostMemory.InUseBytes()!.Value - inUse), Is.LessThan(4L << 20), "a kept block is not memory in use");

        long faults = MinorFaults();
        using (Torch.NewScope()) Assert.That(Torch.Ones([elements]).Sum().Item(), Is.EqualTo(elements));
        long secondCall = MinorFaults() - faults;
        // libtorch's own allocator faults the block in afresh every call: one fault per 4 KiB page, ≈ 6,100.
        Assert.That(secondCall, Is.LessThan(1000), "the second call reuses the kept block");

        using (Torch.NewScope())
        {
            var big = Enumerable.Range(0, 3).Select(_ => Torch.Zeros([50L << 20])).ToList(); // 3 × 200 MiB at once
            Assert.That(big.Sum(t => t.Sum().Item()), Is.Zero, "blocks handed out again hold what the tensor wrote");
        }
        Assert.That(HostMemory.CachedBytes(), Is.LessThanOrEqualTo(256L << 20), "the cache stays under its cap");

        long before = ResidentBytes();
        Assert.That(HostMemory.Trim(), Is.True);
        Assert.That(HostMemory.CachedBytes(), Is.Zero);
        Assert.That(before - ResidentBytes(), Is.GreaterThan(16L << 20), "trim gives the kept blocks back to the OS");
    }

    // Minor page faults of the whole process so far (/proc/self/stat field 10).
    private static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7]);
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
