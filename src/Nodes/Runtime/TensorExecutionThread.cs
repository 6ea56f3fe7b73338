using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Runtime;

/// <summary>
/// The engine's execution thread for tensor work: every job runs on one <see cref="TensorWorker"/> thread (libtorch's
/// grad mode and our dispose scopes are thread-local), with gradients off. One per process and device.
/// </summary>
public sealed class TensorExecutionThread : IExecutionThread
{
    private readonly bool _ownsWorker;

    /// <param name="worker">A worker to share; null creates (and owns) one.</param>
    public TensorExecutionThread(TensorWorker? worker = null)
    {
        _ownsWorker = worker is null;
        Worker = worker ?? new TensorWorker("tensor-execution");
    }

    public TensorWorker Worker { get; }

    public Task RunAsync(Action work) => Worker.RunAsync(() =>
    {
        using var noGrad = Autograd.NoGrad();
        work();
    });

    public void Dispose()
    {
        if (_ownsWorker) Worker.Dispose();
    }
}
