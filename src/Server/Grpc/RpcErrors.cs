using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Status = Grpc.Core.Status;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Throw helpers for the statuses services use, with the google.rpc details clients can decode (sent as a
/// <c>google.rpc.Status</c> in <c>grpc-status-details-bin</c>): INVALID_ARGUMENT carries <c>BadRequest</c> field
/// violations, RESOURCE_EXHAUSTED <c>RetryInfo</c>, FAILED_PRECONDITION <c>ErrorInfo</c>. An exception's message
/// becomes <c>grpc-message</c>, so it must never contain paths, stack traces or internal identifiers.
/// </summary>
public static class RpcErrors
{
    /// <summary>The <c>ErrorInfo.domain</c> of every reason this server gives.</summary>
    public const string Domain = "charactergen";

    /// <summary>One invalid field: <paramref name="field"/> is its path in the request ("asset_id").</summary>
    [DoesNotReturn]
    public static void ThrowInvalidArgument(string field, string description) =>
        throw InvalidArgument($"Invalid {field}: {description}", [(field, description)]);

    [DoesNotReturn]
    public static void ThrowInvalidArgument(string message, IEnumerable<(string Field, string Description)> violations) =>
        throw InvalidArgument(message, violations);

    public static RpcException InvalidArgument(string message, IEnumerable<(string Field, string Description)> violations)
    {
        var badRequest = new BadRequest();
        foreach (var (field, description) in violations)
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        return WithDetails(StatusCode.InvalidArgument, message, badRequest);
    }

    [DoesNotReturn]
    public static void ThrowNotFound(string message) => throw NotFound(message);

    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    /// <summary>RESOURCE_EXHAUSTED; with <paramref name="retryAfter"/>, clients learn when trying again makes sense.</summary>
    [DoesNotReturn]
    public static void ThrowResourceExhausted(string message, TimeSpan? retryAfter = null) =>
        throw ResourceExhausted(message, retryAfter);

    public static RpcException ResourceExhausted(string message, TimeSpan? retryAfter = null) =>
        retryAfter is { } delay
            ? WithDetails(StatusCode.ResourceExhausted, message, new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) })
            : new RpcException(new Status(StatusCode.ResourceExhausted, message));

    [DoesNotReturn]
    public static void ThrowFailedPrecondition(string message, string? reason = null) =>
        throw (reason is null
            ? new RpcException(new Status(StatusCode.FailedPrecondition, message))
            : WithDetails(StatusCode.FailedPrecondition, message, new ErrorInfo { Reason = reason, Domain = Domain }));

    /// <summary>A status with google.rpc details, in the form Grpc.StatusProto reads back (<c>GetRpcStatus()</c>).</summary>
    public static RpcException WithDetails(StatusCode code, string message, params IMessage[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        foreach (var detail in details) status.Details.Add(Any.Pack(detail));
        return status.ToRpcException();
    }
}
