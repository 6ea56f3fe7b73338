using System.Security.Cryptography;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;
using Google.Rpc;

namespace CharacterGen.Server.Tests.Assets;

public sealed class AssetsServiceTests
{
    private const string Upload = "/charactergen.v1.Assets/Upload";
    private const string Download = "/charactergen.v1.Assets/Download";
    private const string Stat = "/charactergen.v1.Assets/Stat";
    private const long UploadLimit = 300_000;

    private TestServer _server = null!;
    private GrpcTestClient _client = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync(o => o with { Assets = o.Assets with { MaxUploadBytes = UploadLimit, DownloadChunkBytes = 16 * 1024 } });
        _client = _server.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Upload_then_download_returns_the_same_bytes_in_chunks()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_000);

        var uploaded = await UploadAsync(bytes, "pose.png", "image/png");
        var download = await _client.UnaryAsync(Download, new DownloadAssetRequest { AssetId = uploaded.AssetId });

        Assert.That(uploaded.AssetId, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(bytes))));
        Assert.That(uploaded.SizeBytes, Is.EqualTo(bytes.Length));
        var messages = download.All(DownloadAssetResponse.Parser);
        Assert.That(messages, Has.Count.EqualTo(7)); // 100,000 bytes in 16 KiB chunks
        Assert.That(messages.SelectMany(m => m.Chunk.ToByteArray()).ToArray(), Is.EqualTo(bytes));
        Assert.That(messages[0].Info.FileName, Is.EqualTo("pose.png"));
        Assert.That(messages.Skip(1).All(m => m.Info is null), Is.True);
    }

    [Test]
    public async Task Stat_describes_the_asset()
    {
        var bytes = RandomNumberGenerator.GetBytes(1234);
        var uploaded = await UploadAsync(bytes, "mask.png", "image/png");

        var result = await _client.UnaryAsync(Stat, new StatAssetRequest { AssetId = uploaded.AssetId.ToUpperInvariant() });

        var info = result.Single(StatAssetResponse.Parser).Info;
        Assert.That(info.AssetId, Is.EqualTo(uploaded.AssetId));
        Assert.That(info.SizeBytes, Is.EqualTo(1234));
        Assert.That(info.ContentType, Is.EqualTo("image/png"));
        Assert.That(info.FileName, Is.EqualTo("mask.png"));
        Assert.That(info.CreatedAt.ToDateTimeOffset(), Is.GreaterThan(DateTimeOffset.UtcNow.AddHours(-1)));
    }

    [Test]
    public async Task Uploading_the_same_bytes_again_gives_the_same_id()
    {
        var bytes = RandomNumberGenerator.GetBytes(5000);

        var first = await UploadAsync(bytes, "a.bin", "");
        var second = await UploadAsync(bytes, "b.bin", "");

        Assert.That(second.AssetId, Is.EqualTo(first.AssetId));
        Assert.That(first.AlreadyStored, Is.False);
        Assert.That(second.AlreadyStored, Is.True);
    }

    [Test]
    public async Task Empty_file_downloads_as_one_message_with_info()
    {
        var uploaded = await UploadAsync([], "empty", "");

        var messages = (await _client.UnaryAsync(Download, new DownloadAssetRequest { AssetId = uploaded.AssetId })).All(DownloadAssetResponse.Parser);

        Assert.That(messages, Has.Count.EqualTo(1));
        Assert.That(messages[0].Chunk.IsEmpty, Is.True);
        Assert.That(messages[0].Info.SizeBytes, Is.Zero);
    }

    [Test]
    public async Task Unknown_asset_is_not_found([Values(Download, Stat)] string method)
    {
        var id = new string('0', 64);
        IMessage request = method == Download ? new DownloadAssetRequest { AssetId = id } : new StatAssetRequest { AssetId = id };

        var result = await _client.UnaryAsync(method, request);

        Assert.That(result.Status, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Malformed_ids_are_invalid_arguments_naming_the_field(
        [Values(Download, Stat)] string method,
        [Values("", "../../etc/passwd", "/etc/passwd", "abc", "zz00000000000000000000000000000000000000000000000000000000000000")] string id)
    {
        IMessage request = method == Download ? new DownloadAssetRequest { AssetId = id } : new StatAssetRequest { AssetId = id };

        var result = await _client.UnaryAsync(method, request);

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(result.RichStatus!.Details.Single().Unpack<BadRequest>().FieldViolations.Single().Field, Is.EqualTo("asset_id"));
        Assert.That(result.StatusMessage, Does.Not.Contain(_server.Options.DataDir));
    }

    [Test]
    public async Task Path_like_file_name_is_rejected_with_field_violations()
    {
        var result = await _client.CallAsync(Upload, [new UploadAssetRequest { FileName = "../../evil.png", ContentType = "no/no/no", Chunk = ByteString.CopyFromUtf8("x") }]);

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var fields = result.RichStatus!.Details.Single().Unpack<BadRequest>().FieldViolations.Select(v => v.Field);
        Assert.That(fields, Is.EquivalentTo(new[] { "file_name", "content_type" }));
    }

    [Test]
    public async Task Upload_over_the_size_limit_is_resource_exhausted_and_stores_nothing()
    {
        var chunks = Enumerable.Range(0, 4).Select(i => new UploadAssetRequest { FileName = i == 0 ? "big.bin" : "", Chunk = ByteString.CopyFrom(new byte[100_000]) });

        var result = await _client.CallAsync(Upload, chunks);

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(result.StatusMessage, Does.Contain(UploadLimit.ToString()));
        var id = Convert.ToHexStringLower(SHA256.HashData(new byte[400_000]));
        Assert.That((await _client.UnaryAsync(Stat, new StatAssetRequest { AssetId = id })).Status, Is.EqualTo(StatusCode.NotFound));
        Assert.That(Directory.GetFiles(Path.Combine(_server.Options.DataDir, "assets", ".tmp")), Is.Empty);
    }

    [Test]
    public async Task Upload_with_no_messages_is_invalid()
    {
        var result = await _client.CallAsync(Upload, []);

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
    }

    [Test]
    public async Task Cancelled_upload_leaves_no_temp_file()
    {
        using var call = _client.Start(Upload);
        await call.SendAsync(new UploadAssetRequest { FileName = "partial.bin", Chunk = ByteString.CopyFrom(new byte[1000]) });
        var temp = Path.Combine(_server.Options.DataDir, "assets", ".tmp");
        await WaitUntil(() => Directory.GetFiles(temp).Length > 0);

        call.Cancel();

        await WaitUntil(() => Directory.GetFiles(temp).Length == 0);
        var id = Convert.ToHexStringLower(SHA256.HashData(new byte[1000]));
        Assert.That((await _client.UnaryAsync(Stat, new StatAssetRequest { AssetId = id })).Status, Is.EqualTo(StatusCode.NotFound));
    }

    private async Task<UploadAssetResponse> UploadAsync(byte[] bytes, string fileName, string contentType)
    {
        var chunks = bytes.Chunk(30_000).Select(chunk => ByteString.CopyFrom(chunk)).DefaultIfEmpty(ByteString.Empty).ToList();
        var requests = chunks.Select((chunk, i) => i == 0
            ? new UploadAssetRequest { FileName = fileName, ContentType = contentType, Chunk = chunk }
            : new UploadAssetRequest { Chunk = chunk });
        var result = await _client.CallAsync(Upload, requests);
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        return result.Single(UploadAssetResponse.Parser);
    }

    /// <summary>Polls a file-system condition; the deadline only guards against a hang.</summary>
    private static async Task WaitUntil(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > giveUp) Assert.Fail("condition never became true");
            await Task.Delay(10);
        }
    }
}
