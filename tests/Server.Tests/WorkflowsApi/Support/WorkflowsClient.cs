using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.WorkflowsApi.Support;

/// <summary>Typed calls to charactergen.v1.Workflows over the raw test client.</summary>
public sealed class WorkflowsClient(GrpcTestClient client)
{
    public const string Service = "/charactergen.v1.Workflows/";

    public GrpcTestClient Raw => client;

    public Task<GrpcCallResult> CallAsync(string method, IMessage request, CallOptions? options = null) =>
        client.UnaryAsync(Service + method, request, options);

    /// <summary>Calls a unary method that must succeed.</summary>
    public async Task<TResponse> OkAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse>
    {
        var result = await CallAsync(method, request);
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        return result.Single(parser);
    }

    public Task<SubmitResponse> SubmitAsync(SubmitRequest request) => OkAsync("Submit", request, SubmitResponse.Parser);

    public Task<SubmitResponse> SubmitAsync(string workflowJson) =>
        SubmitAsync(new SubmitRequest { Workflow = new WorkflowSpec { WorkflowJson = workflowJson } });

    public async Task<Job> GetJobAsync(string jobId) =>
        (await OkAsync("GetJob", new GetJobRequest { JobId = jobId }, GetJobResponse.Parser)).Job;

    /// <summary>A whole Run (or Watch) call: every event it streamed, and how it ended.</summary>
    public async Task<(IReadOnlyList<JobEvent> Events, GrpcCallResult Result)> StreamAsync(string method, IMessage request, CallOptions? options = null)
    {
        var result = await CallAsync(method, request, options);
        return (result.All(JobEvent.Parser), result);
    }

    /// <summary>Starts a Run (or Watch) whose events the test reads one by one (and may cancel).</summary>
    public async Task<StreamingCall> StartAsync(string method, IMessage request, CallOptions? options = null)
    {
        var call = client.Start(Service + method, options);
        await call.SendAsync(request);
        call.CompleteRequest();
        return call;
    }

    public static SubmitRequest Inline(string workflowJson, params InputOverride[] overrides) =>
        new() { Workflow = new WorkflowSpec { WorkflowJson = workflowJson, Overrides = { overrides } } };
}

/// <summary>Small workflows over <see cref="TestNodes"/> in ComfyUI API format.</summary>
public static class TestWorkflows
{
    /// <summary>Const(value) → Steps(steps, gate) → SaveText(prefix): node ids "1", "2", "3".</summary>
    public static string Pipeline(long value, int steps = 2, string gate = "", string prefix = "run") => $$$"""
        {
          "1": {"class_type": "Const", "inputs": {"value": {{{value}}}}},
          "2": {"class_type": "Steps", "inputs": {"value": ["1", 0], "steps": {{{steps}}}, "gate": "{{{gate}}}"}},
          "3": {"class_type": "SaveText", "inputs": {"value": ["2", 0], "filename_prefix": "{{{prefix}}}"}}
        }
        """;

    /// <summary>Const → Fail(message) → Show.</summary>
    public static string Failing(string message) => $$$"""
        {
          "1": {"class_type": "Const", "inputs": {"value": 7}},
          "2": {"class_type": "Fail", "inputs": {"value": ["1", 0], "message": "{{{message}}}"}},
          "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}}
        }
        """;

    /// <summary>Const → Format(text, upper, scale) → Show: every literal type, for overrides.</summary>
    public const string Formatted = """
        {
          "1": {"class_type": "Const", "inputs": {"value": 1}},
          "2": {"class_type": "Format", "inputs": {"value": ["1", 0], "text": "n=", "upper": false, "scale": 1.0}},
          "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}}
        }
        """;

    public static InputOverride Set(string input, long value) => new() { Input = input, IntValue = value };
    public static InputOverride Set(string input, double value) => new() { Input = input, DoubleValue = value };
    public static InputOverride Set(string input, string value) => new() { Input = input, StringValue = value };
    public static InputOverride Set(string input, bool value) => new() { Input = input, BoolValue = value };
}
