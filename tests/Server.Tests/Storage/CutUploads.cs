using System.Net;
using System.Security.Cryptography;
using System.Text;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.Grpc.Support;
using CharacterGen.Tests.Shared;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// Uploads for the kill -9 suite, each running when the server is killed: a multipart POST /upload/image or a gRPC
/// Assets.Upload stream, its body sent in chunks, and either finished or left hanging mid-body (so the kill surely
/// cuts it). Then the checks: an acknowledged upload is there whole after a restart; nothing partial is ever visible
/// in input/ or the asset store; the staging folders hold nothing once a restarted server listens.
/// </summary>
internal sealed class CutUploads(string dataDir)
{
    private const string AssetsUpload = "/charactergen.v1.Assets/Upload";
    private const int ChunkBytes = 16 * 1024;
    private readonly Dictionary<string, byte[]> _sentToInput = new(StringComparer.Ordinal);
    private readonly List<string> _acknowledgedInput = [];
    private readonly List<string> _acknowledgedAssets = [];

    private string Input => Path.Combine(dataDir, "input");
    private string Assets => Path.Combine(dataDir, "assets");
    public string HttpStaging => Path.Combine(dataDir, Hosting.StaleFileCleanup.UploadStagingFolder);
    public string AssetStaging => Path.Combine(Assets, ".tmp");

    public int Acknowledged => _acknowledgedInput.Count + _acknowledgedAssets.Count;
    /// <summary>Staging files found right after a kill (an upload was cut mid-body), per transport.</summary>
    public int HttpLeftovers { get; private set; }
    public int GrpcLeftovers { get; private set; }

    /// <summary>Starts upload <paramref name="n"/>; the task ends when the server answers or the connection dies.</summary>
    public Task Start(int n, ServeProcess server, Random random, CancellationToken stall)
    {
        var payload = new byte[random.Next(64, 512) * 1024];
        new Random(n).NextBytes(payload);
        var hang = random.Next(2) == 0;
        return n % 2 == 0 ? HttpAsync(n, server, payload, hang, stall) : GrpcAsync(server, payload, hang, stall);
    }

    private async Task HttpAsync(int n, ServeProcess server, byte[] payload, bool hang, CancellationToken stall)
    {
        var name = $"cut-{n}.png";
        lock (_sentToInput) _sentToInput[name] = payload;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var content = new ChunkedMultipart(name, payload, hang, stall);
        try
        {
            using var response = await http.PostAsync(new Uri(server.HttpAddress, "/upload/image"), content, stall);
            if (response.StatusCode == HttpStatusCode.OK) lock (_acknowledgedInput) _acknowledgedInput.Add(name);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException) { } // cut: not acknowledged
    }

    private async Task GrpcAsync(ServeProcess server, byte[] payload, bool hang, CancellationToken stall)
    {
        using var client = new GrpcTestClient(server.GrpcAddress);
        using var call = client.Start(AssetsUpload);
        try
        {
            for (var offset = 0; offset < payload.Length; offset += ChunkBytes)
            {
                var chunk = ByteString.CopyFrom(payload, offset, Math.Min(ChunkBytes, payload.Length - offset));
                var message = offset == 0 ? new UploadAssetRequest { FileName = "cut.bin", Chunk = chunk } : new UploadAssetRequest { Chunk = chunk };
                await call.SendAsync(message).WaitAsync(stall); // a call the kill cut before it started never gets its stream
                await Task.Delay(5, stall);
            }
            if (hang) await Task.Delay(Timeout.Infinite, stall);
            call.CompleteRequest();
            var result = await call.FinishAsync().WaitAsync(stall);
            if (result.Status == global::Grpc.Core.StatusCode.OK) lock (_acknowledgedAssets) _acknowledgedAssets.Add(Convert.ToHexStringLower(SHA256.HashData(payload)));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException) { }
    }

    /// <summary>Right after a kill: counts what was cut mid-body, and checks nothing partial is visible.</summary>
    public void AfterKill()
    {
        HttpLeftovers += Files(HttpStaging, "*.upload").Length;
        GrpcLeftovers += Files(AssetStaging, "*.upload").Length;
        AssertNothingPartial();
    }

    /// <summary>Once a restarted server listens: staging is empty and every acknowledged upload is there whole.</summary>
    public void AfterRestart()
    {
        Assert.That(Files(HttpStaging, "*"), Is.Empty, "HTTP upload staging cleaned at start-up");
        Assert.That(Files(AssetStaging, "*"), Is.Empty, "asset upload staging cleaned at start-up");
        AssertNothingPartial();
        lock (_acknowledgedInput)
            foreach (var name in _acknowledgedInput)
                Assert.That(File.Exists(Path.Combine(Input, name)), Is.True, $"acknowledged upload {name} is in input/");
        lock (_acknowledgedAssets)
            foreach (var id in _acknowledgedAssets)
                Assert.That(File.Exists(Path.Combine(Assets, id[..2], id)), Is.True, $"acknowledged asset {id} is stored");
    }

    /// <summary>Every visible uploaded file holds exactly the bytes sent; every stored asset hashes to its id.</summary>
    private void AssertNothingPartial()
    {
        foreach (var file in Files(Input, "cut-*"))
        {
            byte[] sent;
            lock (_sentToInput) sent = _sentToInput[Path.GetFileName(file)];
            Assert.That(File.ReadAllBytes(file).AsSpan().SequenceEqual(sent), Is.True, $"partial upload visible: {file}");
        }
        if (!Directory.Exists(Assets)) return;
        foreach (var folder in Directory.GetDirectories(Assets).Where(d => Path.GetFileName(d) != ".tmp"))
            foreach (var file in Directory.GetFiles(folder).Where(f => !f.EndsWith(".json", StringComparison.Ordinal)))
                Assert.That(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))), Is.EqualTo(Path.GetFileName(file)), $"partial asset visible: {file}");
    }

    private static string[] Files(string folder, string pattern) => Directory.Exists(folder) ? Directory.GetFiles(folder, pattern) : [];

    /// <summary>multipart/form-data with one image part, sent chunk by chunk (chunked encoding), optionally never finished.</summary>
    private sealed class ChunkedMultipart : HttpContent
    {
        private const string Boundary = "cut-upload-boundary";
        private readonly string _name;
        private readonly byte[] _payload;
        private readonly bool _hang;
        private readonly CancellationToken _stall;

        public ChunkedMultipart(string name, byte[] payload, bool hang, CancellationToken stall)
        {
            (_name, _payload, _hang, _stall) = (name, payload, hang, stall);
            Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={Boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{_name}\"\r\nContent-Type: image/png\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stall);
            for (var offset = 0; offset < _payload.Length; offset += ChunkBytes)
            {
                await stream.WriteAsync(_payload.AsMemory(offset, Math.Min(ChunkBytes, _payload.Length - offset)), _stall);
                await stream.FlushAsync(_stall);
                await Task.Delay(5, _stall);
            }
            if (_hang) await Task.Delay(Timeout.Infinite, _stall);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n"), _stall);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
