using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Server.Tests.Grpc.Support;
using WorkflowsClient = CharacterGen.Server.Tests.WorkflowsApi.Support.WorkflowsClient;
using Google.Protobuf.WellKnownTypes;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>The gRPC Workflows service and the ComfyUI API on one server: each sees the other's jobs.</summary>
public sealed class GrpcInteropTests
{
    [Test]
    public async Task A_grpc_job_with_a_client_id_reaches_that_websocket_and_the_http_history()
    {
        await using var server = await ComfyServer.StartAsync();
        using var grpc = new GrpcTestClient(server.GrpcAddress);
        var workflows = new WorkflowsClient(grpc);
        await using var socket = await server.ConnectAsync("from-grpc");
        await socket.NextAsync();

        var submitted = await workflows.SubmitAsync(new SubmitRequest
        {
            Workflow = new WorkflowSpec { WorkflowJson = TestWorkflows.Blocking().ToJsonString() },
            ExtraData = Struct.Parser.ParseJson("""{"client_id": "from-grpc"}"""),
        });
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        server.Nodes.Gate.Set();

        var frames = await socket.ReadUntilFinishedAsync(submitted.JobId);
        Assert.That(frames.Select(f => f.Type), Does.Contain("execution_start").And.Contain("executed").And.Contain("execution_success"));
        var entry = (await server.GetJsonAsync($"/history/{submitted.JobId}"))[submitted.JobId]!;
        Assert.That(entry["status"]!["status_str"]!.GetValue<string>(), Is.EqualTo("success"));
        Assert.That(entry["outputs"]!["3"]!["images"]![0]!["filename"]!.GetValue<string>(), Is.EqualTo("Blocked_00001_.png"));
    }

    [Test]
    public async Task A_prompt_posted_over_http_is_a_job_for_grpc()
    {
        await using var server = await ComfyServer.StartAsync();
        using var grpc = new GrpcTestClient(server.GrpcAddress);
        var workflows = new WorkflowsClient(grpc);

        var id = await server.QueueAsync(TestWorkflows.SaveChain(), "web");
        await server.Engine.WaitAsync(id);
        var job = await workflows.GetJobAsync(id);

        Assert.That(job.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(job.Outputs["3"].Fields["images"].ListValue.Values[0].StructValue.Fields["filename"].StringValue, Is.EqualTo("ComfyUI_00001_.png"));
    }
}
