using System.Net;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>GET/POST /queue and /history: shapes, deletion, pagination.</summary>
public sealed class QueueHistoryTests
{
    [Test]
    public async Task Queue_lists_running_and_pending_items_in_comfyui_shape()
    {
        await using var server = await ComfyServer.StartAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking(), "c");
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var pending = await server.QueueAsync(TestWorkflows.SaveChain(), "c");

        var queue = (JsonObject)await server.GetJsonAsync("/api/queue");

        Assert.That(ReferenceFlowTests.Keys(queue), Is.EqualTo(new[] { "queue_running", "queue_pending" }));
        var item = queue["queue_pending"]![0]!.AsArray();
        Assert.That(item, Has.Count.EqualTo(5));
        Assert.That(item[0]!.ToJsonString(), Is.EqualTo("2"));
        Assert.That(item[1]!.GetValue<string>(), Is.EqualTo(pending));
        Assert.That(JsonNode.DeepEquals(item[2], TestWorkflows.SaveChain()));
        Assert.That(item[3]!["client_id"]!.GetValue<string>(), Is.EqualTo("c"));
        Assert.That(item[4]!.ToJsonString(), Is.EqualTo("""["3"]"""));
        Assert.That(queue["queue_running"]![0]![1]!.GetValue<string>(), Is.EqualTo(running));
        Assert.That((await server.GetJsonAsync($"/history/{running}")).ToJsonString(), Is.EqualTo("{}"), "not finished yet");
        Assert.That((await server.GetJsonAsync($"/history/{pending}")).ToJsonString(), Is.EqualTo("{}"));
        server.Nodes.Gate.Set();
    }

    [Test]
    public async Task Deleting_from_the_queue_removes_pending_prompts_only()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("c");
        await socket.NextAsync();
        var running = await server.QueueAsync(TestWorkflows.Blocking(), "c");
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var a = await server.QueueAsync(TestWorkflows.SaveChain(value: 1), "c");
        var b = await server.QueueAsync(TestWorkflows.SaveChain(value: 2), "c");
        var c = await server.QueueAsync(TestWorkflows.SaveChain(value: 3), "c");

        using (var response = await server.PostJsonAsync("/queue", new { delete = new[] { a, running } }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Pending(await server.GetJsonAsync("/queue")), Is.EqualTo(new[] { b, c }));
        Assert.That((await server.GetJsonAsync("/queue"))["queue_running"]![0]![1]!.GetValue<string>(), Is.EqualTo(running), "the running prompt is untouched");

        using (var response = await server.PostJsonAsync("/api/queue", new { clear = true }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Pending(await server.GetJsonAsync("/queue")), Is.Empty);

        server.Nodes.Gate.Set();
        var frames = await socket.ReadUntilFinishedAsync(running);
        Assert.That(frames.Select(f => f.Type), Does.Contain("execution_success"));
        var history = (JsonObject)await server.GetJsonAsync("/history");
        Assert.That(history.Select(p => p.Key), Is.EqualTo(new[] { running }), "removed prompts never ran and are not in history");
        var statuses = frames.Where(f => f.Type == "status").Select(f => f.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        Assert.That(statuses, Does.Contain(3).And.Contain(1), "the queue changes were broadcast");
    }

    [Test]
    public async Task History_pages_like_comfyui_and_can_be_deleted_and_cleared()
    {
        await using var server = await ComfyServer.StartAsync();
        var ids = new List<string>();
        for (var v = 1; v <= 3; v++)
        {
            ids.Add(await server.QueueAsync(TestWorkflows.SaveChain(value: v)));
            await server.Engine.WaitAsync(ids[^1]);
        }

        Assert.That(Keys(await server.GetJsonAsync("/history")), Is.EqualTo(ids));
        Assert.That(Keys(await server.GetJsonAsync("/history?max_items=2")), Is.EqualTo(ids.Skip(1)), "only max_items: the newest");
        Assert.That(Keys(await server.GetJsonAsync("/history?max_items=1&offset=0")), Is.EqualTo(ids.Take(1)));
        Assert.That(Keys(await server.GetJsonAsync("/history?offset=1")), Is.EqualTo(ids.Skip(1)));
        Assert.That((await server.GetJsonAsync($"/history/{Guid.NewGuid()}")).ToJsonString(), Is.EqualTo("{}"));
        using (var bad = await server.Http.GetAsync("/history?max_items=x")) Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));

        using (var response = await server.PostJsonAsync("/history", new { delete = new[] { ids[1] } }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Keys(await server.GetJsonAsync("/history")), Is.EqualTo(new[] { ids[0], ids[2] }));
        Assert.That(server.Engine.GetJob(ids[1]), Is.Null, "gone from the shared engine too");

        using (var response = await server.PostJsonAsync("/api/history", new { clear = true }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Keys(await server.GetJsonAsync("/history")), Is.Empty);
    }

    private static IEnumerable<string> Keys(JsonNode history) => history.AsObject().Select(p => p.Key);

    private static IEnumerable<string> Pending(JsonNode queue) => queue["queue_pending"]!.AsArray().Select(i => i![1]!.GetValue<string>());
}
