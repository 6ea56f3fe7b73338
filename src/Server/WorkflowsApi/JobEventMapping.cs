using CharacterGen.GraphRuntime.Execution;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Domain = CharacterGen.GraphRuntime.Events;
using Proto = CharacterGen.Protos.V1;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>The runtime's typed job events as proto <see cref="Proto.JobEvent"/>s (one oneof case each).</summary>
internal static class JobEventMapping
{
    /// <summary>
    /// Every event but <see cref="Domain.JobSucceeded"/>, whose outputs come from the job (see
    /// <see cref="Succeeded"/>).
    /// </summary>
    public static Proto.JobEvent ToProto(Domain.JobEvent e)
    {
        var message = new Proto.JobEvent { JobId = e.JobId, Sequence = e.Sequence, Time = Timestamp.FromDateTimeOffset(e.Timestamp) };
        switch (e)
        {
            case Domain.JobQueued queued:
                message.Queued = new Proto.JobQueued { Position = queued.Position };
                break;
            case Domain.JobStarted:
                message.Started = new Proto.JobStarted();
                break;
            case Domain.NodesCached cached:
                message.NodesCached = new Proto.NodesCached { NodeIds = { cached.NodeIds } };
                break;
            case Domain.NodeStarted started:
                message.NodeStarted = new Proto.NodeStarted { NodeId = started.NodeId, ClassType = started.ClassType };
                break;
            case Domain.NodeProgress progress:
                message.NodeProgress = new Proto.NodeProgress
                {
                    NodeId = progress.NodeId, Value = progress.Value, Max = progress.Max, Preview = PreviewBytes(progress.Preview),
                    Details = progress.Details is { Count: > 0 } details ? ProtoValues.ToStruct(details) : null,
                    Training = progress.Details is { } fields ? TrainingOf(fields) : null,
                };
                break;
            case Domain.NodeFinished finished:
                message.NodeFinished = new Proto.NodeFinished
                {
                    NodeId = finished.NodeId,
                    ClassType = finished.ClassType,
                    Ui = finished.Ui is null ? null : ProtoValues.ToStruct(finished.Ui),
                    FromCache = finished.FromCache,
                };
                break;
            case Domain.JobSucceeded:
                message.Succeeded = new Proto.JobSucceeded();
                break;
            case Domain.JobFailed failed:
                message.Failed = Failed(failed.NodeId, failed.ClassType, failed.ErrorType, failed.Message, failed.InputsSummary);
                break;
            case Domain.JobCancelled cancelled:
                message.Cancelled = new Proto.JobCancelled { NodeId = cancelled.NodeId ?? "" };
                break;
        }
        return message;
    }

    /// <summary>The terminal succeeded event with the job's ui outputs and the files they name.</summary>
    public static Proto.JobEvent Succeeded(Domain.JobEvent e, Proto.JobSucceeded outputs)
    {
        var message = ToProto(e);
        message.Succeeded = outputs;
        return message;
    }

    public static Proto.JobFailed Failed(JobError error) =>
        Failed(error.NodeId, error.ClassType, error.ErrorType, error.Message, error.InputsSummary);

    private static Proto.JobFailed Failed(string? nodeId, string? classType, string errorType, string message,
        IReadOnlyDictionary<string, string> inputsSummary) => new()
    {
        NodeId = nodeId ?? "",
        ClassType = classType ?? "",
        ErrorType = errorType,
        Message = ErrorText.WithoutPaths(message),
        InputsSummary = { inputsSummary.ToDictionary(p => p.Key, p => ErrorText.WithoutPaths(p.Value)) },
    };

    /// <summary>Previews are opaque to the runtime; bytes (PNG/JPEG) go on the wire, anything else is dropped.</summary>
    private static ByteString PreviewBytes(object? preview) => preview switch
    {
        byte[] bytes => ByteString.CopyFrom(bytes),
        ReadOnlyMemory<byte> memory => ByteString.CopyFrom(memory.Span),
        Memory<byte> memory => ByteString.CopyFrom(memory.Span),
        ArraySegment<byte> segment => ByteString.CopyFrom(segment.AsSpan()),
        _ => ByteString.Empty,
    };

    /// <summary>A training node's tick (it reports a loss) as the typed message; null for other nodes.</summary>
    internal static Proto.TrainingProgress? TrainingOf(IReadOnlyDictionary<string, object?> fields)
    {
        if (!fields.ContainsKey("loss")) return null;
        double Number(string name) => fields.TryGetValue(name, out var v) && v is not null && v is not string
            ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Proto.TrainingProgress
        {
            Step = (int)Number("step"), TotalSteps = (int)Number("total_steps"), Epoch = (int)Number("epoch"),
            Loss = Number("loss"), SmoothedLoss = Number("smoothed_loss"), LearningRate = Number("learning_rate"),
            ImagesPerSecond = Number("images_per_second"), EtaSeconds = Number("eta_seconds"),
        };
    }
}
