using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>
/// One engine behind every transport: what the gRPC Workflows service submits (straight to the shared
/// <see cref="CharacterGen.GraphRuntime.Engine.WorkflowEngine"/>) shows up here, and the reverse.
/// </summary>
public sealed class SharedEngineTests
{
    [Test]
    public async Task A_job_submitted_through_another_transport_is_relayed_to_its_client_and_listed()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("grpc-client");
        await socket.NextAsync();

        var submitted = server.Engine.Submit(TestWorkflows.Blocking().ToJsonString(), new SubmitOptions
        {
            ExtraData = new JsonObject { ["client_id"] = "grpc-client" },
        });
        Assert.That(submitted.Accepted);
        var id = submitted.JobId!;
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));

        var running = await socket.ReadUntilAsync(f => f.Type == "executing" && f.Data!["node"]?.GetValue<string>() == "2");
        Assert.That(running.Where(f => f.Type != "status").Select(f => f.Type), Is.EqualTo(new[]
        {
            "execution_start", "execution_cached", "executing", "progress_state", "progress_state", "executing",
        }));
        Assert.That(running.Any(f => f.Type == "status" && (int)f.Data!["status"]!["exec_info"]!["queue_remaining"]! == 1));
        Assert.That((await server.GetJsonAsync("/queue"))["queue_running"]![0]![1]!.GetValue<string>(), Is.EqualTo(id));

        server.Nodes.Gate.Set();
        var rest = await socket.ReadUntilFinishedAsync(id);
        Assert.That(rest.Select(f => f.Type), Does.Contain("executed").And.Contain("execution_success"));
        Assert.That(((JsonObject)await server.GetJsonAsync("/history")).ContainsKey(id));
        Assert.That((await server.GetJsonAsync($"/api/jobs/{id}"))["status"]!.GetValue<string>(), Is.EqualTo("completed"));
    }

    [Test]
    public async Task A_job_from_another_transport_that_ends_before_anyone_looked_is_still_relayed_completely()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("quick");
        await socket.NextAsync();

        var id = server.Engine.Submit(TestWorkflows.SaveChain().ToJsonString(), new SubmitOptions
        {
            ExtraData = new JsonObject { ["client_id"] = "quick" },
        }).JobId!;
        await server.Engine.WaitAsync(id);

        var frames = await socket.ReadUntilFinishedAsync(id);
        Assert.That(frames.Where(f => f.Type is not ("status" or "progress_state" or "progress") && !f.IsBinary).Select(f => f.Type), Is.EqualTo(new[]
        {
            "execution_start", "execution_cached", "executing", "executing", "executing", "executed", "execution_success", "executing",
        }));
    }

    [Test]
    public async Task A_prompt_submitted_here_is_a_job_of_the_shared_engine()
    {
        await using var server = await ComfyServer.StartAsync();
        var id = await server.QueueAsync(TestWorkflows.SaveChain(), "web");

        var job = await server.Engine.WaitAsync(id);

        Assert.That(job.Status.ToString(), Is.EqualTo("Succeeded"));
        Assert.That(job.ExtraData["client_id"]!.GetValue<string>(), Is.EqualTo("web"));
        Assert.That(job.Outputs.Keys, Is.EqualTo(new[] { "3" }));
        Assert.That(File.Exists(Path.Combine(server.Folders.Output, "ComfyUI_00001_.png")));
    }
}
