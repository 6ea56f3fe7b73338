using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>/ws: handshake, routing by client_id, reconnects, backpressure.</summary>
public sealed class WebSocketTests
{
    [Test]
    public async Task Feature_flags_handshake_switches_previews_to_frames_with_metadata()
    {
        await using var server = await ComfyServer.StartAsync(o => o with { ComfyApi = o.ComfyApi with { MaxUploadBytes = 12345 } });
        await using var socket = await server.ConnectAsync("meta", previewMetadata: true);
        Assert.That((await socket.NextAsync()).Type, Is.EqualTo("status"));
        var flags = await socket.NextAsync();
        Assert.That(flags.Json!.ToJsonString(), Is.EqualTo("""{"type":"feature_flags","data":{"supports_preview_metadata":true,"max_upload_size":12345}}"""));

        var id = await server.QueueAsync(TestWorkflows.SaveChain(steps: 2), "meta");
        var frames = await socket.ReadUntilFinishedAsync(id);

        var previews = frames.Where(f => f.IsBinary).Select(f => f.Binary!).ToList();
        Assert.That(previews, Has.Count.EqualTo(2));
        var frame = previews[0];
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(frame), Is.EqualTo(4));
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4));
        var metadata = JsonNode.Parse(Encoding.UTF8.GetString(frame, 8, length))!;
        Assert.That(metadata.ToJsonString(), Is.EqualTo($$"""
            {"node_id":"2","prompt_id":"{{id}}","display_node_id":"2","parent_node_id":null,"real_node_id":"2","image_type":"image/png"}
            """.Trim()));
        Assert.That(frame[(8 + length)..], Is.EqualTo(ComfyTestNodes.PreviewPng));
    }

    [Test]
    public async Task Job_messages_go_only_to_the_submitting_client_and_status_to_everyone()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var owner = await server.ConnectAsync("owner");
        await using var other = await server.ConnectAsync("other");
        await owner.NextAsync();
        await other.NextAsync();

        var id = await server.QueueAsync(TestWorkflows.Blocking(), "owner"); // blocked: the queue size is 1 for sure
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        server.Nodes.Gate.Set();
        var ownerFrames = await owner.ReadUntilFinishedAsync(id);

        // Everything for `other` was queued before the final status broadcast, which comes before owner's finish signal.
        var otherFrames = await other.ReadUntilAsync(f => f.Type == "status" && Remaining(f) == 0);
        Assert.That(otherFrames.Select(f => f.Type), Has.All.EqualTo("status"));
        Assert.That(otherFrames.Select(Remaining), Does.Contain(1));
        Assert.That(ownerFrames.Select(f => f.Type), Does.Contain("executed").And.Contain("execution_success"));

        // A prompt without client_id sends no job messages at all (ComfyUI), only status.
        var anonymous = await server.QueueAsync(TestWorkflows.SaveChain(value: 8));
        await server.Engine.WaitAsync(anonymous);
        var afterwards = await owner.ReadUntilAsync(f => f.Type == "status" && Remaining(f) == 0);
        Assert.That(afterwards.Select(f => f.Type), Has.All.EqualTo("status"));
    }

    [Test]
    public async Task A_socket_without_client_id_gets_a_generated_sid()
    {
        await using var server = await ComfyServer.StartAsync();
        await using var socket = await ComfySocket.ConnectAsync(server.WebSocketAddress());
        var hello = await socket.NextAsync();
        Assert.That(hello.Data!["sid"]!.GetValue<string>(), Does.Match("^[0-9a-f]{32}$"));
    }

    [Test]
    public async Task Reconnecting_with_the_same_client_id_replaces_the_socket_and_learns_the_running_node()
    {
        await using var server = await ComfyServer.StartAsync();
        var first = await server.ConnectAsync("same");
        await first.NextAsync();
        var id = await server.QueueAsync(TestWorkflows.Blocking(), "same");
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        await first.ReadUntilAsync(f => f.Type == "executing" && f.Data!["node"]?.GetValue<string>() == "2");

        await using var second = await server.ConnectAsync("same");
        Assert.That((await second.NextAsync()).Data!["sid"]!.GetValue<string>(), Is.EqualTo("same"));
        var resumed = await second.NextAsync();
        Assert.That(resumed.Type, Is.EqualTo("executing"));
        Assert.That(resumed.Data!["node"]!.GetValue<string>(), Is.EqualTo("2"));
        Assert.That(await first.WaitClosedAsync(), Is.True, "the replaced socket is closed");
        await first.DisposeAsync();

        server.Nodes.Gate.Set();
        var rest = await second.ReadUntilFinishedAsync(id);
        Assert.That(rest.Select(f => f.Type), Does.Contain("execution_success"));
    }

    [Test]
    public async Task A_client_that_stops_reading_never_blocks_execution_and_is_disconnected()
    {
        await using var server = await ComfyServer.StartAsync(o => o with
        {
            ComfyApi = o.ComfyApi with { SocketQueueFrames = 16, SendTimeoutSeconds = 1 },
        });
        using var silent = new ClientWebSocket(); // connects and never reads a byte
        await silent.ConnectAsync(server.WebSocketAddress(query: "clientId=silent"), CancellationToken.None);
        await using var watcher = await server.ConnectAsync("watcher");
        await watcher.NextAsync();

        // 64 executed messages of 512 KiB each: far more than socket buffers hold, none of them droppable.
        var prompt = new JsonObject { ["1"] = TestWorkflows.Node("Const", new JsonObject { ["value"] = 1 }) };
        for (var n = 2; n < 66; n++)
            prompt[n.ToString()] = TestWorkflows.Node("BigUi", new JsonObject { ["value"] = TestWorkflows.Link("1"), ["bytes"] = 512 * 1024, ["tag"] = n });
        var id = await server.QueueAsync(prompt, "silent");

        var job = await server.Engine.WaitAsync(id).WaitAsync(ComfySocket.Hang);
        Assert.That(job.Status.ToString(), Is.EqualTo("Succeeded"));
        var hub = server.Services.GetRequiredService<CharacterGen.Server.ComfyApi.ComfySocketHub>();
        using var timeout = new CancellationTokenSource(ComfySocket.Hang);
        try { while (hub.ConnectionCount > 1) await Task.Delay(50, timeout.Token); }
        catch (OperationCanceledException)
        {
            Assert.Fail("still connected; log: " + string.Join("\n", server.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Information).Select(e => e.Category + ": " + e.Message)));
        }
        Assert.That(server.Logs.Entries.Any(e => e.Message.Contains("silent") && e.Message.Contains("disconnecting")), Is.True);

        // The well-behaved client is unaffected.
        var frames = await watcher.ReadUntilAsync(f => f.Type == "status" && Remaining(f) == 0);
        Assert.That(frames, Is.Not.Empty);
    }

    private static int Remaining(Received frame) => frame.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>();
}
