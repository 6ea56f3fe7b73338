using System.Buffers.Binary;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>ComfyUI's reference client flow over a real WebSocket and HTTP client, on the test nodes.</summary>
public sealed class ReferenceFlowTests
{
    private static readonly string[] Progress = ["progress", "progress_state", "status"];

    [Test]
    public async Task Reference_flow_gets_the_message_sequence_history_and_files()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("client-a");
        var hello = await socket.NextAsync();
        Assert.That(hello.Json!.ToJsonString(), Is.EqualTo("""{"type":"status","data":{"status":{"exec_info":{"queue_remaining":0}},"sid":"client-a"}}"""));

        var flow = await ReferenceClientFlow.RunAsync(server, socket, "client-a", TestWorkflows.SaveChain(value: 7, steps: 3));
        var id = flow.PromptId;

        Assert.That(flow.Response.ToJsonString(), Is.EqualTo($$$"""{"prompt_id":"{{{id}}}","number":1,"node_errors":{}}"""));
        Assert.That(flow.Types.Where(t => !Progress.Contains(t)), Is.EqualTo(new[]
        {
            "execution_start", "execution_cached", "executing", "executing", "executing", "executed", "execution_success", "executing",
        }));
        Assert.That(flow.OfType("status").Last().Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>(), Is.EqualTo(0));

        var start = flow.OfType("execution_start").Single().Data!;
        Assert.That(Keys(start), Is.EqualTo(new[] { "prompt_id", "timestamp" }));
        Assert.That(start["timestamp"]!.GetValue<long>(), Is.GreaterThan(1_600_000_000_000));
        var cached = flow.OfType("execution_cached").Single().Data!;
        Assert.That(Keys(cached), Is.EqualTo(new[] { "nodes", "prompt_id", "timestamp" }));
        Assert.That(cached["nodes"]!.AsArray(), Is.Empty);

        var executing = flow.OfType("executing").Select(f => f.Data!).ToList();
        Assert.That(executing.Take(3).Select(d => d.ToJsonString()), Is.EqualTo(new[] { "1", "2", "3" }.Select(n =>
            $$"""{"node":"{{n}}","display_node":"{{n}}","prompt_id":"{{id}}"}""")));
        Assert.That(executing[3].ToJsonString(), Is.EqualTo($$"""{"node":null,"prompt_id":"{{id}}"}"""));

        Assert.That(flow.OfType("progress").Select(f => f.Data!.ToJsonString()), Is.EqualTo(new[] { 1, 2, 3 }.Select(v =>
            $$"""{"value":{{v}},"max":3,"prompt_id":"{{id}}","node":"2"}""")));

        var executed = flow.OfType("executed").Single().Data!;
        Assert.That(executed.ToJsonString(), Is.EqualTo($$"""
            {"node":"3","display_node":"3","output":{"images":[{"filename":"ComfyUI_00001_.png","subfolder":"","type":"output"}]},"prompt_id":"{{id}}"}
            """.Trim()));
        Assert.That(Keys(flow.OfType("execution_success").Single().Data!), Is.EqualTo(new[] { "prompt_id", "timestamp" }));

        // progress_state: every started node, finished at the end, in ComfyUI's shape.
        var lastState = flow.OfType("progress_state").Last().Data!;
        Assert.That(lastState["prompt_id"]!.GetValue<string>(), Is.EqualTo(id));
        var nodes = lastState["nodes"]!.AsObject();
        Assert.That(nodes.Select(n => n.Key), Is.EqualTo(new[] { "1", "2", "3" }));
        Assert.That(nodes["2"]!.ToJsonString(), Is.EqualTo($$"""
            {"value":3,"max":3,"state":"finished","node_id":"2","prompt_id":"{{id}}","display_node_id":"2","parent_node_id":null,"real_node_id":"2"}
            """.Trim()));

        // Preview frames without the metadata handshake: type 1 (PREVIEW_IMAGE), format 2 (PNG), then the image.
        var previews = flow.Frames.Where(f => f.IsBinary).Select(f => f.Binary!).ToList();
        Assert.That(previews, Has.Count.EqualTo(3));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(previews[0]), Is.EqualTo(1));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(previews[0].AsSpan(4)), Is.EqualTo(2));
        Assert.That(previews[0][8..], Is.EqualTo(ComfyTestNodes.PreviewPng));

        // History: {prompt, outputs, status, meta}.
        var history = flow.History;
        Assert.That(Keys(history), Is.EqualTo(new[] { "prompt", "outputs", "status", "meta" }));
        var item = history["prompt"]!.AsArray();
        Assert.That(item, Has.Count.EqualTo(5));
        Assert.That(item[0]!.ToJsonString(), Is.EqualTo("1"));
        Assert.That(item[1]!.GetValue<string>(), Is.EqualTo(id));
        Assert.That(JsonNode.DeepEquals(item[2], TestWorkflows.SaveChain(value: 7, steps: 3)));
        Assert.That(item[3]!["client_id"]!.GetValue<string>(), Is.EqualTo("client-a"));
        Assert.That(item[3]!["create_time"]!.GetValue<long>(), Is.GreaterThan(1_600_000_000_000));
        Assert.That(item[4]!.ToJsonString(), Is.EqualTo("""["3"]"""));
        Assert.That(history["outputs"]!.ToJsonString(), Is.EqualTo("""{"3":{"images":[{"filename":"ComfyUI_00001_.png","subfolder":"","type":"output"}]}}"""));
        var status = history["status"]!;
        Assert.That(status["status_str"]!.GetValue<string>(), Is.EqualTo("success"));
        Assert.That(status["completed"]!.GetValue<bool>(), Is.True);
        Assert.That(status["messages"]!.AsArray().Select(m => m![0]!.GetValue<string>()),
            Is.EqualTo(new[] { "execution_start", "execution_cached", "execution_success" }));
        Assert.That(history["meta"]!.ToJsonString(), Is.EqualTo("""{"3":{"node_id":"3","display_node":"3","parent_node":null,"real_node_id":"3"}}"""));

        // GET /view returns the file SaveImage wrote.
        var file = flow.Files.Single();
        Assert.That(file.Bytes, Is.EqualTo(File.ReadAllBytes(Path.Combine(server.Folders.Output, "ComfyUI_00001_.png"))));
        Assert.That(file.ContentType, Is.EqualTo("image/png"));
    }

    [Test]
    public async Task Identical_resubmission_reports_every_node_cached_and_writes_no_new_file()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("client-a");
        await socket.NextAsync();
        var first = await ReferenceClientFlow.RunAsync(server, socket, "client-a", TestWorkflows.SaveChain());
        var executions = server.Nodes.Executions;

        var second = await ReferenceClientFlow.RunAsync(server, socket, "client-a", TestWorkflows.SaveChain());

        Assert.That(second.Response["number"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(second.OfType("execution_cached").Single().Data!["nodes"]!.AsArray().Select(n => n!.GetValue<string>()),
            Is.EquivalentTo(new[] { "1", "2", "3" }));
        Assert.That(second.OfType("executing").Select(f => f.Data!["node"]), Has.All.Null, "no node executed");
        Assert.That(second.OfType("progress"), Is.Empty);
        Assert.That(second.OfType("executed").Single().Data!["output"]!.ToJsonString(), Is.EqualTo(first.OfType("executed").Single().Data!["output"]!.ToJsonString()));
        Assert.That(second.OfType("execution_success"), Has.Exactly(1).Items);
        Assert.That(server.Nodes.Executions, Is.EqualTo(executions));
        Assert.That(Directory.GetFiles(server.Folders.Output), Has.Length.EqualTo(1));
        Assert.That(second.History["outputs"]!.ToJsonString(), Is.EqualTo(first.History["outputs"]!.ToJsonString()));
        Assert.That(second.Files.Single().Bytes, Is.EqualTo(first.Files.Single().Bytes));
    }

    [Test]
    public async Task Failed_prompt_reports_execution_error_without_paths_or_traceback()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await server.ConnectAsync("client-a");
        await socket.NextAsync();
        var id = await server.QueueAsync(TestWorkflows.Failing(), "client-a");

        var frames = await socket.ReadUntilFinishedAsync(id);

        var error = frames.Single(f => f.Type == "execution_error").Data!;
        Assert.That(Keys(error), Is.EqualTo(new[]
        {
            "prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type", "traceback",
            "current_inputs", "current_outputs", "timestamp",
        }));
        Assert.That(error["node_id"]!.GetValue<string>(), Is.EqualTo("2"));
        Assert.That(error["node_type"]!.GetValue<string>(), Is.EqualTo("Throw"));
        Assert.That(error["exception_type"]!.GetValue<string>(), Is.EqualTo("InvalidOperationException"));
        Assert.That(error["exception_message"]!.GetValue<string>(), Is.EqualTo("boom reading x.safetensors"));
        Assert.That(error["traceback"]!.AsArray(), Is.Empty);
        Assert.That(error["executed"]!.ToJsonString(), Is.EqualTo("""["1"]"""));
        Assert.That(error["current_inputs"]!["value"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(frames.Any(f => f.Type == "execution_success"), Is.False);

        var entry = (await server.GetJsonAsync($"/history/{id}"))[id]!;
        Assert.That(entry["status"]!["status_str"]!.GetValue<string>(), Is.EqualTo("error"));
        Assert.That(entry["status"]!["completed"]!.GetValue<bool>(), Is.False);
        Assert.That(entry["status"]!["messages"]!.AsArray().Last()![0]!.GetValue<string>(), Is.EqualTo("execution_error"));
        Assert.That(entry.ToJsonString(), Does.Not.Contain("/srv/secret"));
    }

    internal static string[] Keys(JsonObject obj) => obj.Select(p => p.Key).ToArray();
}
