using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// Turns one job's typed events into ComfyUI's WebSocket messages, in ComfyUI's order: status, execution_start,
/// execution_cached, then per node executing / progress / progress_state / previews / executed, then the outcome,
/// status and the <c>executing {node: null}</c> finish signal. Everything goes to the prompt's client_id only
/// (nothing without one), except status and execution_interrupted, which are broadcast.
/// </summary>
internal sealed class JobMessageTranslator(string promptId, string? clientId, bool previews, bool live, ComfySocketHub hub, WorkflowEngine engine)
{
    private readonly JsonObject _nodeStates = new(); // progress_state: nodes that started, in start order
    private readonly Dictionary<string, double> _maxima = new(StringComparer.Ordinal);
    private bool _started;

    public void Handle(JobEvent e)
    {
        switch (e)
        {
            case JobStarted:
                _started = true;
                if (live)
                {
                    hub.SetRunning(new ComfySocketHub.RunningPrompt(promptId, clientId, null));
                    hub.BroadcastStatus();
                }
                ToClient(ExecutionMessages.ExecutionStart, ExecutionMessages.Start(promptId, e.Timestamp));
                break;
            case NodesCached cached:
                ToClient(ExecutionMessages.ExecutionCached, ExecutionMessages.Cached(promptId, cached.NodeIds, e.Timestamp));
                break;
            case NodeStarted started:
                if (live) hub.SetRunning(new ComfySocketHub.RunningPrompt(promptId, clientId, started.NodeId));
                ToClient(ExecutionMessages.Executing, ExecutionMessages.ExecutingNode(promptId, started.NodeId));
                SetState(started.NodeId, 0, 1, "running");
                break;
            case NodeProgress progress:
                ToClient(ExecutionMessages.Progress, ExecutionMessages.ProgressData(promptId, progress.NodeId, progress.Value, progress.Max, progress.Details), droppable: true);
                SetState(progress.NodeId, progress.Value, progress.Max, "running");
                if (previews && clientId is not null && PreviewFrame.From(progress.Preview, promptId, progress.NodeId) is { } frame)
                    hub.SendTo(clientId, frame);
                break;
            case NodeFinished finished:
                if (finished.Ui is not null)
                    ToClient(ExecutionMessages.Executed, ExecutionMessages.ExecutedData(promptId, finished.NodeId, ComfyJson.Ui(finished.Ui)));
                var max = _maxima.GetValueOrDefault(finished.NodeId, 1);
                SetState(finished.NodeId, max, max, "finished");
                break;
            case JobSucceeded:
                ToClient(ExecutionMessages.ExecutionSuccess, ExecutionMessages.Success(promptId, e.Timestamp));
                Finish();
                break;
            case JobFailed:
                if (engine.GetJob(promptId) is { } failedJob) ToClient(ExecutionMessages.ExecutionError, ExecutionMessages.Error(failedJob, e.Timestamp));
                Finish();
                break;
            case JobCancelled:
                // A prompt removed while pending never started: ComfyUI says nothing about it but the new queue size.
                if (_started && engine.GetJob(promptId) is { } cancelledJob)
                    hub.Broadcast(TextFrame.Of(ExecutionMessages.ExecutionInterrupted, ExecutionMessages.Interrupted(cancelledJob, e.Timestamp)));
                Finish();
                break;
        }
    }

    private void Finish()
    {
        if (live)
        {
            hub.ClearRunning(promptId);
            hub.BroadcastStatus();
        }
        if (_started) ToClient(ExecutionMessages.Executing, ExecutionMessages.ExecutingNode(promptId, null));
    }

    private void SetState(string node, double value, double max, string state)
    {
        _maxima[node] = max;
        _nodeStates[node] = new JsonObject
        {
            ["value"] = ComfyJson.Number(value),
            ["max"] = ComfyJson.Number(max),
            ["state"] = state,
            ["node_id"] = node,
            ["prompt_id"] = promptId,
            ["display_node_id"] = node,
            ["parent_node_id"] = null,
            ["real_node_id"] = node,
        };
        if (!hub.IsConnected(clientId)) return; // keep the state for a client that connects later; skip building the message
        ToClient(ExecutionMessages.ProgressState,
            new JsonObject { ["prompt_id"] = promptId, ["nodes"] = _nodeStates.DeepClone() }, droppable: state == "running");
    }

    private void ToClient(string type, JsonObject data, bool droppable = false)
    {
        if (hub.IsConnected(clientId)) hub.SendTo(clientId, TextFrame.Of(type, data, droppable));
    }
}
