using System.Net;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>POST /interrupt and POST /api/jobs/{id}/cancel stop one job; there is no global interrupt flag.</summary>
public sealed class InterruptTests
{
    [Test]
    public async Task Interrupting_the_running_prompt_by_id_stops_it_and_broadcasts_execution_interrupted()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var owner = await server.ConnectAsync("owner");
        await using var other = await server.ConnectAsync("other");
        await owner.NextAsync();
        await other.NextAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking(), "owner");
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var next = await server.QueueAsync(TestWorkflows.SaveChain(), "owner");

        using (var response = await server.PostJsonAsync("/interrupt", new { prompt_id = running }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var frames = await owner.ReadUntilFinishedAsync(running);
        var interrupted = frames.Single(f => f.Type == "execution_interrupted").Data!;
        Assert.That(ReferenceFlowTests.Keys(interrupted), Is.EqualTo(new[] { "prompt_id", "node_id", "node_type", "executed", "timestamp" }));
        Assert.That(interrupted["node_id"]!.GetValue<string>(), Is.EqualTo("2"));
        Assert.That(interrupted["node_type"]!.GetValue<string>(), Is.EqualTo("Blocker"));
        Assert.That(interrupted["executed"]!.ToJsonString(), Is.EqualTo("""["1"]"""));
        Assert.That(frames.Any(f => f.Type == "execution_success"), Is.False);
        var seenByOther = await other.ReadUntilAsync(f => f.Type == "execution_interrupted");
        Assert.That(seenByOther.Last().Data!["prompt_id"]!.GetValue<string>(), Is.EqualTo(running), "broadcast, as ComfyUI does");

        // The next prompt is not hit by a leftover flag.
        var rest = await owner.ReadUntilFinishedAsync(next);
        Assert.That(rest.Select(f => f.Type), Does.Contain("execution_success"));

        var status = (await server.GetJsonAsync($"/history/{running}"))[running]!["status"]!;
        Assert.That(status["status_str"]!.GetValue<string>(), Is.EqualTo("error"));
        Assert.That(status["completed"]!.GetValue<bool>(), Is.False);
        Assert.That(status["messages"]!.AsArray().Last()![0]!.GetValue<string>(), Is.EqualTo("execution_interrupted"));
    }

    [Test]
    public async Task Interrupting_a_prompt_that_is_not_running_does_nothing()
    {
        await using var server = await ComfyServer.StartAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var pending = await server.QueueAsync(TestWorkflows.SaveChain());

        using (var response = await server.PostJsonAsync("/interrupt", new { prompt_id = pending }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using (var response = await server.PostJsonAsync("/interrupt", new { prompt_id = Guid.NewGuid().ToString() }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        server.Nodes.Gate.Set();

        Assert.That((await server.Engine.WaitAsync(running)).Status.ToString(), Is.EqualTo("Succeeded"));
        Assert.That((await server.Engine.WaitAsync(pending)).Status.ToString(), Is.EqualTo("Succeeded"));
    }

    [Test]
    public async Task Interrupt_without_prompt_id_stops_only_the_running_prompt()
    {
        await using var server = await ComfyServer.StartAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var pending = await server.QueueAsync(TestWorkflows.SaveChain());

        using (var response = await server.Http.PostAsync("/api/interrupt", null))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        Assert.That((await server.Engine.WaitAsync(running)).Status.ToString(), Is.EqualTo("Cancelled"));
        Assert.That((await server.Engine.WaitAsync(pending)).Status.ToString(), Is.EqualTo("Succeeded"));
    }

    [Test]
    public async Task Jobs_cancel_stops_running_or_pending_jobs_and_is_idempotent()
    {
        await using var server = await ComfyServer.StartAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var pending = await server.QueueAsync(TestWorkflows.SaveChain());

        Assert.That(await Cancel(server, pending), Is.True);
        Assert.That(await Cancel(server, running), Is.True);
        Assert.That((await server.Engine.WaitAsync(running)).Status.ToString(), Is.EqualTo("Cancelled"));
        Assert.That(await Cancel(server, running), Is.False, "already finished");
        Assert.That(await Cancel(server, Guid.NewGuid().ToString()), Is.False, "unknown");
        Assert.That(server.Engine.GetJob(pending)!.StartedAt, Is.Null, "the pending job never ran");
    }

    private static async Task<bool> Cancel(ComfyServer server, string id)
    {
        using var response = await server.Http.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["cancelled"]!.GetValue<bool>();
    }
}
