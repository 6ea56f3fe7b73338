namespace CharacterGen.Server.Grpc.Health;

/// <summary>
/// The "ready" entry as the sum of what the components report: SERVING while none has a problem (the job queue is
/// not full, the models folder is readable, the device answers), NOT_SERVING while any has one. Each component
/// reports only its own condition, so one recovering never hides another's failure. Updates reach
/// <see cref="HealthState"/> at once; shutdown still turns everything NOT_SERVING for good.
/// </summary>
public sealed class ReadyConditions(HealthState health)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _problems = new(StringComparer.Ordinal);

    /// <summary>Sets (a message) or clears (null) <paramref name="component"/>'s problem; true when that changed it.</summary>
    public bool Report(string component, string? problem)
    {
        lock (_gate)
        {
            bool had = _problems.TryGetValue(component, out string? previous);
            if (problem is null ? !had : had && previous == problem) return false;
            if (problem is null) _problems.Remove(component);
            else _problems[component] = problem;
            health.SetStatus(HealthState.Ready, _problems.Count == 0 ? ServingStatus.Serving : ServingStatus.NotServing);
            return true;
        }
    }

    /// <summary>The problems now, by component (empty when ready).</summary>
    public IReadOnlyDictionary<string, string> Problems()
    {
        lock (_gate) return new Dictionary<string, string>(_problems, StringComparer.Ordinal);
    }
}
