using CharacterGen.Server.Assets;
using Grpc.Core;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// The one place where an exception that left a handler becomes a status. <see cref="RpcException"/>s (from
/// <see cref="RpcErrors"/>) pass unchanged; known domain exceptions get their status here (add new ones as a
/// case); anything else is a bug: INTERNAL with a correlation id and no text of the exception.
/// </summary>
public static class GrpcErrorMapping
{
    public const string InternalMessagePrefix = "Internal error. Correlation id: ";

    /// <summary>The status for <paramref name="error"/>, or null when it is not a client-visible outcome but a bug.</summary>
    public static RpcException? Map(Exception error) => error switch
    {
        RpcException rpc => rpc,
        AssetTooLargeException tooLarge => RpcErrors.ResourceExhausted(tooLarge.Message),
        CharacterGen.Nodes.Files.StorageFullException full => RpcErrors.ResourceExhausted(full.Message),
        CharacterGen.GraphRuntime.Jobs.JobStoreException => new RpcException(new Status(StatusCode.Unavailable,
            "The job store cannot take the job right now; nothing was queued. Retry later.")),
        Characters.CharacterStepException step => step.Failure switch
        {
            Characters.StepFailure.QueueFull => RpcErrors.ResourceExhausted(step.Message),
            Characters.StepFailure.Invalid => RpcErrors.InvalidArgument(step.Message, [("workflow", step.Message)]),
            Characters.StepFailure.Cancelled => new RpcException(new Status(StatusCode.Cancelled, step.Message)),
            _ => new RpcException(new Status(StatusCode.Aborted, step.Message)),
        },
        Characters.CharacterWorkflowException workflow => new RpcException(new Status(StatusCode.FailedPrecondition, workflow.Message)),
        _ => null,
    };

    public static RpcException Internal(string correlationId) =>
        new(new Status(StatusCode.Internal, $"{InternalMessagePrefix}{correlationId}."));
}
