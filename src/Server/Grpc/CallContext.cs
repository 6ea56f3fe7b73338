using Microsoft.AspNetCore.Http;

namespace CharacterGen.Server.Grpc;

/// <summary>What a handler knows about its call, and the headers/trailers it may add to the response.</summary>
public sealed class CallContext
{
    internal CallContext(HttpContext httpContext, string method, DateTime deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Method = method;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, "/package.Service/Method".</summary>
    public string Method { get; }

    /// <summary>When the client stops waiting (UTC); <see cref="DateTime.MaxValue"/> if it set no deadline.</summary>
    public DateTime Deadline { get; }

    /// <summary>
    /// Fires when the deadline passes or the client goes away (cancel, RST_STREAM, dropped connection).
    /// Pass it to everything the handler awaits; long-running work must poll it.
    /// </summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Request headers, including custom metadata ("-bin" values still base64).</summary>
    public IHeaderDictionary RequestHeaders => HttpContext.Request.Headers;

    /// <summary>The client's address in gRPC's form, e.g. "ipv4:127.0.0.1:51234".</summary>
    public string Peer => FormatPeer(HttpContext.Connection);

    /// <summary>Custom headers sent before the first response message (or with the status if there is none).</summary>
    public Metadata ResponseHeaders { get; } = new();

    /// <summary>Custom trailers sent with the status.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The underlying ASP.NET Core request, for what this type does not cover.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>Time left before the deadline, or <see cref="Timeout.InfiniteTimeSpan"/> without one.</summary>
    public TimeSpan RemainingTime =>
        Deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Max(0, (Deadline - DateTime.UtcNow).Ticks));

    private static string FormatPeer(ConnectionInfo connection) => connection.RemoteIpAddress switch
    {
        null => "unknown",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ip => $"ipv6:[{ip}]:{connection.RemotePort}",
        var ip => $"ipv4:{ip}:{connection.RemotePort}",
    };
}
