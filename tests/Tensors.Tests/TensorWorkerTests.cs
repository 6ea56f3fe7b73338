namespace CharacterGen.Tensors.Tests;

public sealed class TensorWorkerTests
{
    [Test]
    public async Task AllWorkRunsOnOneDedicatedThreadInOrder()
    {
        using var worker = new TensorWorker();
        var threads = new List<int>();
        var tasks = Enumerable.Range(0, 20).Select(i => worker.RunAsync(() => { threads.Add(Environment.CurrentManagedThreadId); return i; })).ToArray();
        int[] results = await Task.WhenAll(tasks);
        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(threads.Distinct().Count(), Is.EqualTo(1));
        Assert.That(threads[0], Is.Not.EqualTo(Environment.CurrentManagedThreadId));
    }

    [Test]
    public async Task ExceptionsReachTheCallerAndTheWorkerKeepsGoing()
    {
        using var worker = new TensorWorker();
        var e = await Assert.ThrowsAsync<TorchException>(() => worker.RunAsync(() =>
        {
            using var scope = Torch.NewScope();
            return F.Matmul(Torch.Ones([2, 3]), Torch.Ones([2, 3])).NumElements;
        }));
        Assert.That(e, Is.Not.Null);
        long n = await worker.RunAsync(() =>
        {
            using var scope = Torch.NewScope();
            return F.Matmul(Torch.Ones([2, 3]), Torch.Ones([3, 2])).NumElements;
        });
        Assert.That(n, Is.EqualTo(4));
    }

    [Test]
    public async Task CancelledBeforeStartDoesNotRun()
    {
        using var worker = new TensorWorker();
        using var gate = new ManualResetEventSlim();
        Task blocker = worker.RunAsync(() => gate.Wait());
        using var cts = new CancellationTokenSource();
        bool ran = false;
        Task<bool> queued = worker.RunAsync(() => ran = true, cts.Token);
        cts.Cancel();
        gate.Set();
        await Assert.ThrowsAsync<TaskCanceledException>(() => queued);
        Assert.That(ran, Is.False);
        Assert.That(blocker.Wait(5000), Is.True);
    }
}
