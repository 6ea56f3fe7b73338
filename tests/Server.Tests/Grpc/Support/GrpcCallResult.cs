using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>Everything a finished call returned: HTTP status, headers, messages, and the status from trailers or a Trailers-Only response.</summary>
public sealed class GrpcCallResult
{
    public required HttpStatusCode HttpStatus { get; init; }
    public required HttpResponseHeaders Headers { get; init; }
    public required HttpHeaders? Trailers { get; init; }
    public required IReadOnlyList<byte[]> Messages { get; init; }
    public required bool AnyMessageCompressed { get; init; }
    public required string? ContentType { get; init; }

    /// <summary>grpc-status came in the response headers and nothing else followed.</summary>
    public bool TrailersOnly => Headers.Contains(GrpcProtocol.Status);

    public StatusCode Status => Enum.Parse<StatusCode>(Value(GrpcProtocol.Status) ?? throw new InvalidOperationException("No grpc-status."));

    public string StatusMessage => GrpcProtocol.DecodeMessage(Value(GrpcProtocol.Message) ?? "");

    /// <summary>The google.rpc.Status from grpc-status-details-bin, or null.</summary>
    public Google.Rpc.Status? RichStatus =>
        Value(GrpcProtocol.StatusDetails) is { } encoded ? Google.Rpc.Status.Parser.ParseFrom(GrpcProtocol.DecodeBinary(encoded)) : null;

    public T Single<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        Assert.That(Messages, Has.Count.EqualTo(1), $"expected one message; status {Value(GrpcProtocol.Status)} {StatusMessage}");
        return parser.ParseFrom(Messages[0]);
    }

    public IReadOnlyList<T> All<T>(MessageParser<T> parser) where T : IMessage<T> => Messages.Select(parser.ParseFrom).ToList();

    /// <summary>A header or trailer value; in a Trailers-Only response the "trailers" are headers.</summary>
    public string? Value(string name) =>
        Headers.TryGetValues(name, out var values) ? values.First()
        : Trailers is not null && Trailers.TryGetValues(name, out var trailerValues) ? trailerValues.First()
        : null;
}
