using System.Net;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>GET /api/jobs and /api/jobs/{id} (ComfyUI v0.8.0's jobs API).</summary>
public sealed class JobsTests
{
    [Test]
    public async Task Jobs_list_filters_sorts_and_pages()
    {
        await using var server = await ComfyServer.StartAsync();
        var done = await server.QueueAsync(TestWorkflows.SaveChain(value: 1), extra: b => b["extra_data"] = new JsonObject
        {
            ["extra_pnginfo"] = new JsonObject { ["workflow"] = new JsonObject { ["id"] = "wf-a" } },
        });
        await server.Engine.WaitAsync(done);
        var failed = await server.QueueAsync(TestWorkflows.Failing());
        await server.Engine.WaitAsync(failed);
        var running = await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        var pending = await server.QueueAsync(TestWorkflows.SaveChain(value: 2));

        var all = await server.GetJsonAsync("/api/jobs");
        Assert.That(Ids(all), Is.EqualTo(new[] { pending, running, failed, done }), "newest first");
        Assert.That(all["pagination"]!.ToJsonString(), Is.EqualTo("""{"offset":0,"limit":null,"total":4,"has_more":false}"""));
        Assert.That(Statuses(all), Is.EqualTo(new[] { "pending", "in_progress", "failed", "completed" }));

        Assert.That(Ids(await server.GetJsonAsync("/api/jobs?status=completed,failed&sort_order=asc")), Is.EqualTo(new[] { done, failed }));
        Assert.That(Ids(await server.GetJsonAsync("/api/jobs?workflow_id=wf-a")), Is.EqualTo(new[] { done }));
        var page = await server.GetJsonAsync("/api/jobs?limit=1&offset=1");
        Assert.That(Ids(page), Is.EqualTo(new[] { running }));
        Assert.That(page["pagination"]!.ToJsonString(), Is.EqualTo("""{"offset":1,"limit":1,"total":4,"has_more":true}"""));

        var completed = all["jobs"]![3]!.AsObject();
        Assert.That(completed["outputs_count"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(completed["preview_output"]!["filename"]!.GetValue<string>(), Is.EqualTo("ComfyUI_00001_.png"));
        Assert.That(completed["preview_output"]!["nodeId"]!.GetValue<string>(), Is.EqualTo("3"));
        Assert.That(completed["preview_output"]!["mediaType"]!.GetValue<string>(), Is.EqualTo("images"));
        Assert.That(completed["workflow_id"]!.GetValue<string>(), Is.EqualTo("wf-a"));
        Assert.That(completed.ContainsKey("outputs"), Is.False, "the list stays light");
        Assert.That(all["jobs"]![2]!["execution_error"]!["node_id"]!.GetValue<string>(), Is.EqualTo("2"));

        foreach (var bad in new[] { "status=bogus", "sort_by=name", "sort_order=up", "limit=0", "limit=x", "offset=x" })
            Assert.That((await server.Http.GetAsync("/api/jobs?" + bad)).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), bad);
        server.Nodes.Gate.Set();
    }

    [Test]
    public async Task A_job_has_its_workflow_outputs_and_status()
    {
        await using var server = await ComfyServer.StartAsync();
        var id = await server.QueueAsync(TestWorkflows.SaveChain(), "c");
        await server.Engine.WaitAsync(id);

        var job = (JsonObject)await server.GetJsonAsync($"/api/jobs/{id}");

        Assert.That(job.Select(p => p.Key), Is.EqualTo(new[]
        {
            "id", "status", "priority", "create_time", "execution_start_time", "execution_end_time", "outputs_count",
            "previewable_outputs_count", "preview_output", "outputs", "execution_status", "workflow",
        }));
        Assert.That(job["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(job["outputs"]!.ToJsonString(), Is.EqualTo("""{"3":{"images":[{"filename":"ComfyUI_00001_.png","subfolder":"","type":"output"}]}}"""));
        Assert.That(job["execution_status"]!["status_str"]!.GetValue<string>(), Is.EqualTo("success"));
        Assert.That(JsonNode.DeepEquals(job["workflow"]!["prompt"], TestWorkflows.SaveChain()));
        Assert.That(job["workflow"]!["extra_data"]!["client_id"]!.GetValue<string>(), Is.EqualTo("c"));

        using var missing = await server.Http.GetAsync($"/api/jobs/{Guid.NewGuid()}");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await missing.Content.ReadAsStringAsync(), Is.EqualTo("""{"error":"Job not found"}"""));
    }

    private static IEnumerable<string> Ids(JsonNode list) => list["jobs"]!.AsArray().Select(j => j!["id"]!.GetValue<string>());

    private static IEnumerable<string> Statuses(JsonNode list) => list["jobs"]!.AsArray().Select(j => j!["status"]!.GetValue<string>());
}
