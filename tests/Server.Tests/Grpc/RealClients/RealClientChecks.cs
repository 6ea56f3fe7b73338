namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>The checks every real client script runs and reports as "PASS name".</summary>
public static class RealClientChecks
{
    public static readonly string[] Names =
    [
        "health_check",
        "health_watch",
        "reflection_list",
        "reflection_describe",
        "upload_download",
        "invalid_argument_details",
        "unknown_method",
        "deadline_exceeded",
        "gzip",
        "streaming",
    ];
}
