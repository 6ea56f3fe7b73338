using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, "also": the body limit depended on the transfer encoding (Content-Length → 400, chunked → an unhandled
/// 413), client resets were logged as failures, the retry hints differed, and /free gave nothing back.
/// </summary>
public sealed class RequestConsistencyTests
{
    private const long JsonLimit = 4096; // /prompt accepts twice this (the prompt plus extra_data)

    private static Task<ComfyServer> StartAsync() =>
        ComfyServer.StartAsync(o => o with { Engine = o.Engine with { Json = JsonLimits.Default with { MaxBytes = JsonLimit } } });

    [TestCase(false)]
    [TestCase(true)]
    public async Task An_oversized_prompt_gets_413_with_a_json_body_whatever_the_transfer_encoding(bool chunked)
    {
        await using var server = await StartAsync();
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["prompt"] = new JsonObject(), ["pad"] = new string('x', (int)JsonLimit * 3) }.ToJsonString());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/prompt")
        {
            Content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new("application/json");
        if (chunked) request.Headers.TransferEncodingChunked = true;

        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), text);
        Assert.That(JsonNode.Parse(text)!["error"]!["details"]!.GetValue<string>(), Does.Contain($"{JsonLimit * 2} bytes"));
        Assert.That(server.Logs.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty);
    }

    [Test]
    public async Task Queue_full_sends_the_configured_retry_after()
    {
        await using var server = await ComfyServer.StartAsync(o => o with { RetryAfterSeconds = 7, Engine = o.Engine with { QueueCapacity = 1 } });
        await server.QueueAsync(TestWorkflows.Blocking());
        Assert.That(await server.Nodes.Entered.WaitAsync(ComfySocket.Hang));
        await server.QueueAsync(TestWorkflows.SaveChain());

        using var response = await server.Http.PostAsync("/prompt",
            new StringContent(new JsonObject { ["prompt"] = TestWorkflows.SaveChain(value: 2) }.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
        server.Nodes.Gate.Set();
    }

    [Test]
    public async Task A_client_that_resets_mid_upload_is_logged_below_warning()
    {
        await using var server = await StartAsync();
        using var requestEnds = new RequestEnds();
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(server.HttpAddress.Host, server.HttpAddress.Port);
            var stream = client.GetStream();
            var head = "POST /upload/image HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n" +
                       "Content-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(new byte[64 * 1024]);
            await stream.FlushAsync();
            await Task.Delay(300);
            client.Client.LingerState = new LingerOption(true, 0); // close with RST
        }
        await requestEnds.First.WaitAsync(TimeSpan.FromSeconds(30)); // the server is done with the upload (a hang guard, not a timing)

        Assert.That(server.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Level} {e.Category}: {e.Message}"), Is.Empty);
        var staging = Path.Combine(server.Folders.Root, ".upload-staging");
        Assert.That(Directory.Exists(staging) ? Directory.GetFiles(staging) : [], Is.Empty, "the partial upload is removed");
    }

    [Test]
    public async Task Free_with_unload_models_drops_the_loaded_weights()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        var id = await server.QueueAsync(Sd15Jobs.Txt2Img(64, 64));
        await server.Engine.WaitAsync(id);
        var models = server.Services.GetRequiredService<ModelCache>();
        Assert.That(models.Loaded, Is.Not.Empty);

        using (var response = await server.PostJsonAsync("/free", new { unload_models = true }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        for (var i = 0; i < 100 && (models.Loaded.Count > 0 || server.Engine.CachedEntryCount > 0); i++) await Task.Delay(100);
        Assert.That(models.Loaded, Is.Empty);
        Assert.That(server.Engine.CachedEntryCount, Is.Zero);
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
