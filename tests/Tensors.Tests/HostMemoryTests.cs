namespace CharacterGen.Tensors.Tests;

/// <summary>
/// cg_memory_trim (issue #10: after /free the server's memory was not given back). glibc keeps freed heap chunks
/// that sit between live ones; malloc_trim returns their pages.
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

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
