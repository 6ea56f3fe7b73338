using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Throw helpers for the statuses services use, with the google.rpc details clients can decode:
/// INVALID_ARGUMENT carries <c>BadRequest</c> field violations, RESOURCE_EXHAUSTED <c>RetryInfo</c>.
/// </summary>
public static class RpcErrors
{
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
        return new RpcException(StatusCode.InvalidArgument, message, [badRequest]);
    }

    [DoesNotReturn]
    public static void ThrowNotFound(string message) => throw new RpcException(StatusCode.NotFound, message);

    /// <summary>RESOURCE_EXHAUSTED; with <paramref name="retryAfter"/>, clients learn when trying again makes sense.</summary>
    [DoesNotReturn]
    public static void ThrowResourceExhausted(string message, TimeSpan? retryAfter = null) =>
        throw ResourceExhausted(message, retryAfter);

    public static RpcException ResourceExhausted(string message, TimeSpan? retryAfter = null) =>
        retryAfter is { } delay
            ? new RpcException(StatusCode.ResourceExhausted, message, [new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }])
            : new RpcException(StatusCode.ResourceExhausted, message);

    [DoesNotReturn]
    public static void ThrowFailedPrecondition(string message, string? reason = null) =>
        throw new RpcException(StatusCode.FailedPrecondition, message,
            reason is null ? null : [new ErrorInfo { Reason = reason, Domain = "charactergen" }]);
}
