using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>The outcome of a call as it goes on the wire: code, message and optional rich details.</summary>
public readonly record struct GrpcStatus(StatusCode Code, string Message, IReadOnlyList<IMessage> Details)
{
    public static readonly GrpcStatus Ok = new(StatusCode.OK, "", []);

    public GrpcStatus(StatusCode code, string message) : this(code, message, []) { }

    public static GrpcStatus From(RpcException exception) =>
        new(exception.StatusCode, exception.Message, exception.Details);
}
