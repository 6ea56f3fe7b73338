using System.Collections.Concurrent;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>The default <see cref="IExecutionThread"/>: one background thread that runs work items in order.</summary>
public sealed class DedicatedExecutionThread : IExecutionThread
{
    /// <summary>Deep graphs and native code like a larger stack than the 1 MiB default.</summary>
    public const int DefaultStackBytes = 16 * 1024 * 1024;

    private readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> _work = new();
    private readonly Thread _thread;

    public DedicatedExecutionThread(string name = "graph-execution", int stackBytes = DefaultStackBytes)
    {
        _thread = new Thread(Loop, stackBytes) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public int ManagedThreadId => _thread.ManagedThreadId;

    public Task RunAsync(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add((work, done));
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(DedicatedExecutionThread)));
        }
        return done.Task;
    }

    private void Loop()
    {
        foreach (var (work, done) in _work.GetConsumingEnumerable())
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _work.Dispose();
    }
}
