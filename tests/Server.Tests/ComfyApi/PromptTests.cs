using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>POST /prompt and GET /prompt: the reference's error shapes, ids, priorities, partial execution.</summary>
public sealed class PromptTests
{
    [TestCase("/prompt")]
    [TestCase("/api/prompt")]
    public async Task A_body_without_prompt_is_no_prompt(string path)
    {
        await using var server = await ComfyServer.StartAsync();
        var (status, body) = await server.PostPromptAsync(new JsonObject { ["client_id"] = "x" }, path);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ToJsonString(), Is.EqualTo(
            """{"error":{"type":"no_prompt","message":"No prompt provided","details":"No prompt provided","extra_info":{}},"node_errors":{}}"""));
    }

    [Test]
    public async Task Unknown_class_no_outputs_and_bad_values_are_400_with_comfyui_errors()
    {
        await using var server = await ComfyServer.StartAsync();

        var (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = new JsonObject { ["9"] = TestWorkflows.Node("Nope", new JsonObject()) } });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("invalid_prompt"));
        Assert.That(body["error"]!["details"]!.GetValue<string>(), Is.EqualTo("Node ID '#9'"));

        (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = new JsonObject { ["1"] = TestWorkflows.Node("Const", new JsonObject { ["value"] = 1 }) } });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("prompt_no_outputs"));

        var prompt = TestWorkflows.SaveChain();
        prompt["1"]!["inputs"]!["value"] = 5000;
        (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = prompt });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("prompt_outputs_failed_validation"));
        var nodeError = body["node_errors"]!["1"]!;
        Assert.That(nodeError["errors"]![0]!["type"]!.GetValue<string>(), Is.EqualTo("value_bigger_than_max"));
        Assert.That(nodeError["dependent_outputs"]!.ToJsonString(), Is.EqualTo("""["3"]"""));
        Assert.That(nodeError["class_type"]!.GetValue<string>(), Is.EqualTo("Const"));
        Assert.That(server.Engine.ListJobs(), Is.Empty, "nothing was queued");
    }

    [Test]
    public async Task Unreadable_bodies_are_400()
    {
        await using var server = await ComfyServer.StartAsync();
        using var response = await server.Http.PostAsync("/prompt", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("invalid_prompt"));

        var (status, result) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(), ["extra_data"] = "x" });
        Assert.That(status, Is.EqualTo(400), result.ToJsonString());
    }

    [Test]
    public async Task A_client_prompt_id_must_be_a_canonical_uuid_and_unused()
    {
        await using var server = await ComfyServer.StartAsync();
        var id = Guid.NewGuid().ToString("D");

        foreach (var bad in new JsonNode[] { id.ToUpperInvariant(), "abc", 5, "../../x" })
        {
            var (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(), ["prompt_id"] = bad });
            Assert.That(status, Is.EqualTo(400));
            Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("invalid_prompt_id"));
        }

        var (ok, accepted) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(), ["prompt_id"] = id });
        Assert.That(ok, Is.EqualTo(200));
        Assert.That(accepted["prompt_id"]!.GetValue<string>(), Is.EqualTo(id));
        var (again, duplicate) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(value: 9), ["prompt_id"] = id });
        Assert.That(again, Is.EqualTo(400));
        Assert.That(duplicate["error"]!["type"]!.GetValue<string>(), Is.EqualTo("invalid_prompt_id"));
    }

    [Test]
    public async Task Front_and_number_order_the_queue()
    {
        await using var server = await ComfyServer.StartAsync();
        var blocker = await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));

        var last = await server.QueueAsync(TestWorkflows.SaveChain(value: 1));
        var first = await server.QueueAsync(TestWorkflows.SaveChain(value: 2), extra: b => b["front"] = true);
        var (_, explicitBody) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(value: 3), ["number"] = 2.5 });
        Assert.That(explicitBody["number"]!.ToJsonString(), Is.EqualTo("2.5"));
        var (_, falseFront) = await server.PostPromptAsync(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(value: 4), ["front"] = "false" });

        var queue = await server.GetJsonAsync("/queue");
        Assert.That(queue["queue_running"]!.AsArray().Select(i => i![1]!.GetValue<string>()), Is.EqualTo(new[] { blocker }));
        Assert.That(queue["queue_pending"]!.AsArray().Select(i => i![1]!.GetValue<string>()), Is.EqualTo(new[]
        {
            first, last, explicitBody["prompt_id"]!.GetValue<string>(), falseFront["prompt_id"]!.GetValue<string>(),
        }), "front jumps the queue; the string \"false\" is not true");
        Assert.That((await server.GetJsonAsync("/prompt")).ToJsonString(), Is.EqualTo("""{"exec_info":{"queue_remaining":5}}"""));
        server.Nodes.Gate.Set();
    }

    [Test]
    public async Task Partial_execution_targets_run_only_the_named_outputs()
    {
        await using var server = await ComfyServer.StartAsync();
        var prompt = TestWorkflows.SaveChain();
        prompt["4"] = TestWorkflows.Node("TestSaveImage", new JsonObject { ["images"] = TestWorkflows.Link("1"), ["filename_prefix"] = "other" });

        var id = await server.QueueAsync(prompt, extra: b => b["partial_execution_targets"] = new JsonArray("4"));
        await server.Engine.WaitAsync(id);

        var entry = (await server.GetJsonAsync($"/history/{id}"))[id]!;
        Assert.That(entry["outputs"]!.AsObject().Select(o => o.Key), Is.EqualTo(new[] { "4" }));
        Assert.That(entry["prompt"]![4]!.ToJsonString(), Is.EqualTo("""["4"]"""));
        Assert.That(Directory.GetFiles(server.Folders.Output).Select(Path.GetFileName), Is.EqualTo(new[] { "other_00001_.png" }));
    }

    [Test]
    public async Task Extra_data_keeps_pnginfo_and_drops_comfy_org_credentials()
    {
        await using var server = await ComfyServer.StartAsync();
        var id = await server.QueueAsync(TestWorkflows.SaveChain(), "c1", b => b["extra_data"] = new JsonObject
        {
            ["extra_pnginfo"] = new JsonObject { ["workflow"] = new JsonObject { ["id"] = "wf-1" } },
            ["auth_token_comfy_org"] = "secret-token",
            ["api_key_comfy_org"] = "secret-key",
        });
        await server.Engine.WaitAsync(id);

        var extra = (await server.GetJsonAsync($"/history/{id}"))[id]!["prompt"]![3]!.AsObject();
        Assert.That(extra.Select(p => p.Key), Is.EqualTo(new[] { "extra_pnginfo", "client_id", "create_time" }));
        Assert.That(extra.ToJsonString(), Does.Not.Contain("secret"));
    }

    [Test]
    public async Task A_full_queue_answers_503_with_retry_after()
    {
        await using var server = await ComfyServer.StartAsync(o => o with { Engine = o.Engine with { QueueCapacity = 1 } });
        await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        await server.QueueAsync(TestWorkflows.SaveChain());

        using var response = await server.Http.PostAsync("/prompt",
            new StringContent(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(value: 2) }.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter, Is.Not.Null);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("queue_full"));
        server.Nodes.Gate.Set();
    }
}
