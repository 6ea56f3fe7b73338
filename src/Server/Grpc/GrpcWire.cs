using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// The few facts about the gRPC wire that <see cref="GrpcCallMiddleware"/> needs to answer a call itself and
/// to read how a call the library answered ended.
/// </summary>
internal static class GrpcWire
{
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string SupportedEncodings = "identity,gzip";
    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";

    /// <summary>application/grpc, application/grpc+proto, application/grpc-web(-text)(+proto).</summary>
    public static bool IsGrpcRequest(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Protobuf only: application/grpc(+proto) and gRPC-Web's forms; not application/grpc+json.</summary>
    public static bool IsSupportedContentType(string? contentType)
    {
        var type = (contentType ?? "").Split(';')[0].Trim();
        var plus = type.IndexOf('+');
        return plus < 0 || type[(plus + 1)..].Equals("proto", StringComparison.OrdinalIgnoreCase);
    }

    public static bool IsSupportedEncoding(string encoding) =>
        encoding.Equals("identity", StringComparison.OrdinalIgnoreCase) || encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);

    /// <summary>HTTP 415 with an INTERNAL status, as the gRPC spec asks for a content type the server does not speak.</summary>
    public static StatusCode RejectContentType(HttpResponse response, string? contentType)
    {
        WriteTrailersOnly(response, null, new Status(StatusCode.Internal, $"Content-Type '{contentType}' is not supported."));
        response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return StatusCode.Internal;
    }

    /// <summary>A Trailers-Only response: HTTP 200, the status in the headers, no body.</summary>
    public static void WriteTrailersOnly(HttpResponse response, string? requestContentType, Status status)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = requestContentType?.StartsWith("application/grpc-web", StringComparison.OrdinalIgnoreCase) == true
            ? requestContentType : "application/grpc";
        response.Headers[AcceptEncodingHeader] = SupportedEncodings;
        response.Headers[StatusHeader] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[MessageHeader] = PercentEncode(status.Detail);
    }

    /// <summary>A refusal on a transcoded JSON route, in the shape the transcoder renders statuses.</summary>
    public static Task WriteJsonErrorAsync(HttpResponse response, Status status)
    {
        response.StatusCode = status.StatusCode == StatusCode.Unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest;
        if (status.StatusCode == StatusCode.Unauthenticated) response.Headers.WWWAuthenticate = "Bearer";
        return response.WriteAsJsonAsync(new { code = (int)status.StatusCode, message = status.Detail, details = Array.Empty<object>() });
    }

    /// <summary>How a call ended: CANCELLED when the client reset it, else grpc-status from the trailers (or a
    /// Trailers-Only header), else from the HTTP outcome.</summary>
    public static StatusCode OutcomeOf(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var text = trailers?[StatusHeader].ToString() is { Length: > 0 } fromTrailers ? fromTrailers : context.Response.Headers[StatusHeader].ToString();
        var parsed = int.TryParse(text, out var code) ? (StatusCode?)code : null;
        // A client that reset the stream ended the call, whatever the library put in trailers nobody reads.
        if (context.RequestAborted.IsCancellationRequested && parsed != StatusCode.DeadlineExceeded) return StatusCode.Cancelled;
        return parsed ?? FromHttpStatus(context.Response.StatusCode);
    }

    /// <summary>For transcoded JSON calls, which carry no grpc-status: the inverse of the transcoder's mapping.</summary>
    private static StatusCode FromHttpStatus(int status) => status switch
    {
        200 => StatusCode.OK,
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.Aborted,
        429 => StatusCode.ResourceExhausted,
        499 => StatusCode.Cancelled,
        501 => StatusCode.Unimplemented,
        503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    /// <summary>The client's address in gRPC's form, e.g. "ipv4:127.0.0.1:51234".</summary>
    public static string Peer(ConnectionInfo connection) => connection.RemoteIpAddress switch
    {
        null => "unknown",
        { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"ipv6:[{ip}]:{connection.RemotePort}",
        var ip => $"ipv4:{ip}:{connection.RemotePort}",
    };

    /// <summary>grpc-message's encoding: printable ASCII except '%' as is, every other UTF-8 byte as %XX.</summary>
    private static string PercentEncode(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') builder.Append((char)b);
            else builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        return builder.ToString();
    }
}
