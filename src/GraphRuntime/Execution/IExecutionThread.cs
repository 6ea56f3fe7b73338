namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// Where a job's node calls run. All calls of a job go through one <see cref="RunAsync"/>, so an
/// implementation that owns one thread gives tensor code the thread affinity it needs (libtorch
/// grad mode and dispose scopes are thread-local).
/// </summary>
public interface IExecutionThread : IDisposable
{
    /// <summary>Runs <paramref name="work"/> to completion on the execution thread; faults with its exception.</summary>
    Task RunAsync(Action work);
}
