using CharacterGen.Nodes.Runtime;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Bounds;

/// <summary>The default budget follows the device: free VRAM on CUDA, host memory on the CPU (issue #10 item 1).</summary>
public sealed class DefaultMemoryBudgetTests
{
    private const long Host = 24L << 30;

    private static (long, long) NoDevice(int index) => throw new AssertionException("the CPU must not query a CUDA device");

    [Test]
    public void On_the_cpu_it_is_three_quarters_of_host_memory()
    {
        var choice = DefaultMemoryBudget.Choose(Device.Cpu, () => Host, NoDevice);
        Assert.That(choice.Budget.Bytes, Is.EqualTo(18L << 30));
        Assert.That(choice.Source, Does.Contain("host memory"));
    }

    [Test]
    public void On_cuda_it_is_three_quarters_of_the_device_memory_free_now()
    {
        int? asked = null;
        var choice = DefaultMemoryBudget.Choose(Device.Cuda(1), () => Host, index =>
        {
            asked = index;
            return (100L << 30, 140L << 30); // 40 GiB held by another process
        });
        Assert.That(asked, Is.EqualTo(1), "the device the weights go to");
        Assert.That(choice.Budget.Bytes, Is.EqualTo(75L << 30));
        Assert.That(choice.Source, Does.Contain("free on cuda:1"));
    }

    [Test]
    public void A_cuda_device_that_cannot_be_queried_falls_back_to_host_memory_and_says_why()
    {
        var failed = DefaultMemoryBudget.Choose(Device.Cuda(), () => Host, _ => throw new TorchException("no such CUDA device"));
        Assert.That(failed.Budget.Bytes, Is.EqualTo(18L << 30));
        Assert.That(failed.Source, Does.Contain("host memory").And.Contain("no such CUDA device"));

        var empty = DefaultMemoryBudget.Choose(Device.Cuda(), () => Host, _ => (0, 0)); // a CPU-only libtorch reports zeros
        Assert.That(empty.Budget.Bytes, Is.EqualTo(18L << 30));
        Assert.That(empty.Source, Does.Contain("reports no memory"));
    }

    [Test]
    public void The_default_for_the_cpu_is_what_the_server_used_before()
    {
        Assert.That(DefaultMemoryBudget.For(Device.Cpu).Budget.Bytes,
            Is.EqualTo((long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.75)));
    }
}
