using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// What a running node may see of its job: who it is, a cancellation check, progress reporting,
/// the hidden inputs and the host's services. Valid only during the call it was passed to.
/// </summary>
public sealed class NodeContext
{
    private readonly Action<NodeContext, double, double, object?, IReadOnlyDictionary<string, object?>?>? _onProgress;

    internal NodeContext(string jobId, string nodeId, string classType, JsonObject prompt, JsonObject extraData,
        IServiceProvider services, CancellationToken cancellationToken,
        Action<NodeContext, double, double, object?, IReadOnlyDictionary<string, object?>?>? onProgress)
    {
        JobId = jobId;
        NodeId = nodeId;
        ClassType = classType;
        Prompt = prompt;
        ExtraData = extraData;
        Services = services;
        CancellationToken = cancellationToken;
        _onProgress = onProgress;
    }

    /// <summary>
    /// A context outside any engine, for calling a node's Execute directly in a unit test. Progress
    /// goes to <paramref name="onProgress"/> (value, max, preview) and, with its details, to <paramref name="onDetails"/>.
    /// </summary>
    public static NodeContext Detached(string nodeId = "1", string classType = "", IServiceProvider? services = null,
        CancellationToken cancellationToken = default, Action<double, double, object?>? onProgress = null,
        Action<double, double, IReadOnlyDictionary<string, object?>?>? onDetails = null) =>
        new("test", nodeId, classType, new JsonObject(), new JsonObject(), services ?? NoServices.Instance, cancellationToken,
            (_, value, max, preview, details) =>
            {
                onProgress?.Invoke(value, max, preview);
                onDetails?.Invoke(value, max, details);
            });

    public string JobId { get; }
    public string NodeId { get; }
    public string ClassType { get; }
    /// <summary>The API-format prompt being run (ComfyUI's hidden PROMPT). Do not modify.</summary>
    public JsonObject Prompt { get; }
    /// <summary>The job's extra_data (ComfyUI's extra_data: extra_pnginfo, client_id, ...). Do not modify.</summary>
    public JsonObject ExtraData { get; }
    /// <summary>ComfyUI's hidden EXTRA_PNGINFO: extra_data.extra_pnginfo.</summary>
    public JsonNode? ExtraPngInfo => ExtraData["extra_pnginfo"];
    /// <summary>Services the host registered on the engine (model folders, device workers, ...).</summary>
    public IServiceProvider Services { get; }
    public CancellationToken CancellationToken { get; }
    /// <summary>Index of the current call when the node is mapped over list inputs (0 otherwise).</summary>
    public int ListIndex { get; internal set; }

    public T? GetService<T>() where T : class => Services.GetService(typeof(T)) as T;

    public T GetRequiredService<T>() where T : class =>
        GetService<T>() ?? throw new InvalidOperationException($"Service {typeof(T).Name} is not registered on the engine.");

    public void ThrowIfCancellationRequested() => CancellationToken.ThrowIfCancellationRequested();

    /// <summary>
    /// Reports progress (e.g. a sampler step: value = step + 1, max = steps) with an optional opaque
    /// preview such as PNG bytes. Also a cancellation point, like ComfyUI's ProgressBar.
    /// </summary>
    public void ReportProgress(double value, double max, object? preview = null)
    {
        CancellationToken.ThrowIfCancellationRequested();
        _onProgress?.Invoke(this, value, max, preview, null);
    }

    /// <summary>
    /// Reports progress with named values beyond value/max (e.g. a training step's loss and learning rate), carried on
    /// the <see cref="Events.NodeProgress"/> event as its details. The tick is reported before the cancellation check,
    /// so work that finished (a training step and its checkpoint) is always reported.
    /// </summary>
    public void ReportProgress(double value, double max, IReadOnlyDictionary<string, object?> details, object? preview = null)
    {
        _onProgress?.Invoke(this, value, max, preview, details);
        CancellationToken.ThrowIfCancellationRequested();
    }
}
