using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.Hosting;

/// <summary>What a node does when several share one PostgreSQL queue (docs/deploy.md).</summary>
public enum ServerRole
{
    /// <summary>Accepts and serves requests and runs jobs (the only role without PostgreSQL).</summary>
    All,
    /// <summary>Accepts and serves requests, never runs a job (no GPU needed).</summary>
    Api,
    /// <summary>Runs jobs from the shared queue (and serves requests too).</summary>
    Worker,
}

/// <summary>Several servers on one PostgreSQL database: the node's role and the claim lease (see docs/deploy.md).</summary>
public sealed record ClusterOptions
{
    public const double DefaultLeaseSeconds = 30;

    public ServerRole Role { get; init; } = ServerRole.All;

    /// <summary>How long a worker's claim on a job holds without a heartbeat; a dead worker's job runs again after it.</summary>
    public double LeaseSeconds { get; init; } = DefaultLeaseSeconds;

    public IEnumerable<string> Validate(bool postgres)
    {
        if (Role != ServerRole.All && !postgres)
            yield return $"Role {Role.ToString().ToLowerInvariant()} needs a shared PostgreSQL database (--database postgres://…).";
        if (double.IsNaN(LeaseSeconds) || LeaseSeconds is < 0.3 or > 3600)
            yield return $"LeaseSeconds must be between 0.3 and 3600 (got {LeaseSeconds}).";
    }

    /// <summary>The engine's shared-queue settings for this process (a unique worker id per start).</summary>
    public SharedQueueOptions SharedQueue(int shutdownTimeoutSeconds)
    {
        var lease = TimeSpan.FromSeconds(LeaseSeconds);
        return new SharedQueueOptions
        {
            WorkerId = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}",
            Claims = Role != ServerRole.Api,
            Lease = lease,
            PollInterval = TimeSpan.FromSeconds(Math.Min(1, LeaseSeconds / 3)),
            // Leave the transports a little of the shutdown grace after the running job is finished or handed back.
            DrainTimeout = TimeSpan.FromSeconds(Math.Max(0, shutdownTimeoutSeconds - 3)),
        };
    }
}
