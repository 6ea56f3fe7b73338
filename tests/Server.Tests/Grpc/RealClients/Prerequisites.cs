namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>
/// What a real-client test does when its client cannot run (no python3-grpcio, no node, no npm registry): on a
/// developer's machine it is skipped with the reason; under CI (CI=true) it fails, so a broken set-up can never
/// make these tests vanish silently.
/// </summary>
public static class Prerequisites
{
    public static bool OnCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Missing(string reason)
    {
        if (OnCi) Assert.Fail($"{reason} CI=true requires every real client (scripts/deps.sh test installs them).");
        Assert.Ignore(reason);
    }
}
