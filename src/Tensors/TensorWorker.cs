using System.Collections.Concurrent;

namespace CharacterGen.Tensors;

/// <summary>
/// One dedicated thread that runs all tensor work submitted to it, in order. libtorch's grad mode and our dispose
/// scopes are thread-local, so a job's tensor work belongs on one thread; callers (gRPC handlers) only await.
/// </summary>
public sealed class TensorWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public TensorWorker(string name = "tensor-worker")
    {
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>True when called from this worker's own thread.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>Runs <paramref name="work"/> on the worker thread. Cancellation before it starts skips it.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (IsCurrentThread)
        {
            // Re-entrant call from the worker itself: run inline rather than deadlock.
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
            return done.Task;
        }
        _work.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            try { done.SetResult(work()); }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested) { done.TrySetCanceled(e.CancellationToken); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    public Task RunAsync(Action work, CancellationToken cancellationToken = default) =>
        RunAsync(() => { work(); return true; }, cancellationToken);

    private void Loop()
    {
        foreach (Action item in _work.GetConsumingEnumerable()) item();
    }

    /// <summary>Finishes the queued work, then stops the thread.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        if (!IsCurrentThread) _thread.Join();
        _work.Dispose();
    }
}
