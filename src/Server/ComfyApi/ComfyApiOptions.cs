namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// Limits of the ComfyUI-compatible HTTP/WebSocket API (configuration section <c>ComfyApi</c>), with named
/// defaults. Validated with the rest of <see cref="Hosting.ServerOptions"/> before the server starts.
/// </summary>
public sealed record ComfyApiOptions
{
    /// <summary>100 MiB: ComfyUI's <c>--max-upload-size</c> default. A larger upload is refused with 413.</summary>
    public const long DefaultMaxUploadBytes = 100L * 1024 * 1024;

    /// <summary>Frames waiting for one WebSocket before the client counts as hopeless and is disconnected.</summary>
    public const int DefaultSocketQueueFrames = 1024;

    /// <summary>Keep-alive frames on every WebSocket, so that proxies never drop a connection during a long job.</summary>
    public const int DefaultKeepAliveSeconds = 15;

    /// <summary>A single WebSocket send that takes longer than this closes the socket (the client stopped reading).</summary>
    public const int DefaultSendTimeoutSeconds = 30;

    public long MaxUploadBytes { get; init; } = DefaultMaxUploadBytes;

    public int SocketQueueFrames { get; init; } = DefaultSocketQueueFrames;

    public int KeepAliveSeconds { get; init; } = DefaultKeepAliveSeconds;

    public int SendTimeoutSeconds { get; init; } = DefaultSendTimeoutSeconds;

    /// <summary>
    /// Host names (besides localhost and loopback addresses) accepted in the <c>Host</c> header while the server is
    /// bound to loopback without authentication, e.g. the name a local reverse proxy forwards. Anything else is
    /// refused, which stops DNS-rebinding attacks.
    /// </summary>
    public string[] AllowedHosts { get; init; } = [];

    public IEnumerable<string> Validate()
    {
        if (MaxUploadBytes <= 0) yield return $"ComfyApi:MaxUploadBytes must be positive (got {MaxUploadBytes}).";
        if (SocketQueueFrames is < 16 or > 1_000_000)
            yield return $"ComfyApi:SocketQueueFrames must be between 16 and 1000000 (got {SocketQueueFrames}).";
        if (KeepAliveSeconds is < 1 or > 3600)
            yield return $"ComfyApi:KeepAliveSeconds must be between 1 and 3600 (got {KeepAliveSeconds}).";
        if (SendTimeoutSeconds is < 1 or > 3600)
            yield return $"ComfyApi:SendTimeoutSeconds must be between 1 and 3600 (got {SendTimeoutSeconds}).";
        for (var i = 0; i < AllowedHosts.Length; i++)
            if (string.IsNullOrWhiteSpace(AllowedHosts[i]) || AllowedHosts[i].Any(c => c <= ' ' || c == '/' || c > '~'))
                yield return $"ComfyApi:AllowedHosts[{i}] must be a host name.";
    }
}
