using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>POST /upload/image and /upload/mask: naming rules, containment, size limit.</summary>
public sealed class UploadTests
{
    [Test]
    public async Task Upload_reuses_identical_bytes_renames_different_ones_and_overwrites_on_request()
    {
        await using var server = await ComfyServer.StartAsync();
        byte[] a = [1, 2, 3], b = [4, 5, 6], c = [7, 8, 9];

        Assert.That((await Upload(server, a, "pic.png")).Body, Is.EqualTo("""{"name":"pic.png","subfolder":"","type":"input"}"""));
        Assert.That((await Upload(server, a, "pic.png")).Body, Is.EqualTo("""{"name":"pic.png","subfolder":"","type":"input"}"""), "same bytes: reused");
        Assert.That((await Upload(server, b, "pic.png")).Body, Is.EqualTo("""{"name":"pic (1).png","subfolder":"","type":"input"}"""));
        Assert.That((await Upload(server, c, "pic.png")).Body, Is.EqualTo("""{"name":"pic (2).png","subfolder":"","type":"input"}"""));
        Assert.That((await Upload(server, b, "pic.png")).Body, Is.EqualTo("""{"name":"pic (1).png","subfolder":"","type":"input"}"""), "matches an earlier rename");
        Assert.That((await Upload(server, c, "pic.png", ("overwrite", "true"))).Body, Is.EqualTo("""{"name":"pic.png","subfolder":"","type":"input"}"""));

        Assert.That(File.ReadAllBytes(Path.Combine(server.Folders.Input, "pic.png")), Is.EqualTo(c));
        Assert.That(File.ReadAllBytes(Path.Combine(server.Folders.Input, "pic (1).png")), Is.EqualTo(b));
        Assert.That(Directory.GetFiles(server.Folders.Input), Has.Length.EqualTo(3));
        Assert.That(Directory.GetFiles(Path.Combine(server.Folders.Root, ".upload-staging")), Is.Empty);
    }

    [Test]
    public async Task Upload_honours_type_and_subfolder_and_the_file_is_viewable()
    {
        await using var server = await ComfyServer.StartAsync();
        var png = TestPng.Create(2, 2, 9, 9, 9, 255);

        var (status, body) = await Upload(server, png, "x.png", ("type", "temp"), ("subfolder", "masks/a"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body, Is.EqualTo("""{"name":"x.png","subfolder":"masks/a","type":"temp"}"""));
        Assert.That(File.ReadAllBytes(Path.Combine(server.Folders.Temp, "masks", "a", "x.png")), Is.EqualTo(png));
        using var view = await server.Http.GetAsync("/view?filename=x.png&subfolder=masks/a&type=temp");
        Assert.That(await view.Content.ReadAsByteArrayAsync(), Is.EqualTo(png));

        Assert.That((await Upload(server, png, "x.png", ("type", "models"))).Status, Is.EqualTo(400));
        using var notMultipart = await server.Http.PostAsync("/upload/image", new ByteArrayContent(png));
        Assert.That(notMultipart.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [TestCase("../evil.png", "")]
    [TestCase("..\\evil.png", "")]
    [TestCase("sub/../../evil.png", "")]
    [TestCase("ABS/evil.png", "")]
    [TestCase("%2e%2e%2fevil.png", "")]
    [TestCase("..", "")]
    [TestCase("evil.png", "..")]
    [TestCase("evil.png", "../..")]
    [TestCase("evil.png", "%2e%2e")]
    [TestCase("evil.png", "ABS")]
    [TestCase("evil.png", "a/../../..")]
    [TestCase("evil.png", "outside_link")]
    [TestCase("evil.png", "outside_link/deeper")]
    public async Task Traversal_attempts_are_refused_and_nothing_is_written_outside(string fileName, string subfolder)
    {
        await using var server = await ComfyServer.StartAsync();
        var outside = Path.Combine(server.Folders.Root, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateSymbolicLink(Path.Combine(server.Folders.Input, "outside_link"), outside);
        fileName = fileName.Replace("ABS", outside);
        subfolder = subfolder.Replace("ABS", outside);

        var (status, _) = await Upload(server, [1, 2, 3], fileName, ("subfolder", subfolder));

        Assert.That(status, Is.EqualTo(400));
        var everything = UploadedFiles(server);
        Assert.That(everything, Is.Empty, "no file anywhere under the data folder (nor through the link)");
        Assert.That(Directory.GetFileSystemEntries(outside), Is.Empty);
    }

    [Test]
    public async Task Uploads_over_the_limit_are_413_and_leave_nothing_behind([Values] bool chunked)
    {
        await using var server = await ComfyServer.StartAsync(o => o with { ComfyApi = o.ComfyApi with { MaxUploadBytes = 4096 } });

        // With a Content-Length the refusal comes before the body is read; Expect: 100-continue lets the client hear it
        // without sending the body (otherwise the connection may be reset under it, as with any early refusal).
        var (status, _) = await Upload(server, new byte[16 * 1024], "big.png", chunked: chunked);

        Assert.That(status, Is.EqualTo(413));
        Assert.That(UploadedFiles(server), Is.Empty);
        Assert.That((await Upload(server, new byte[1024], "small.png", chunked: chunked)).Status, Is.EqualTo(200), "the limit, not the route, refused it");
    }

    [Test]
    public async Task Mask_upload_copies_the_mask_alpha_into_the_original_and_keeps_its_text()
    {
        await using var server = await ComfyServer.StartAsync();
        var original = TestPng.Create(3, 2, 200, 100, 50, 255, ("prompt", "{\"1\":{}}"));
        ViewTests.Write(server.Folders.Input, "photo.png", original);
        var mask = TestPng.Create(3, 2, 0, 0, 0, 77);
        var reference = new JsonObject { ["filename"] = "photo.png", ["subfolder"] = "", ["type"] = "input" }.ToJsonString();

        var (status, body) = await Upload(server, mask, "clipspace-mask.png", "/upload/mask", ("original_ref", reference), ("type", "input"), ("subfolder", "clipspace"));

        Assert.That(status, Is.EqualTo(200), body);
        Assert.That(body, Is.EqualTo("""{"name":"clipspace-mask.png","subfolder":"clipspace","type":"input"}"""));
        var stored = TestPng.Decode(File.ReadAllBytes(Path.Combine(server.Folders.Input, "clipspace", "clipspace-mask.png")));
        Assert.That((stored.Width, stored.Height), Is.EqualTo((3, 2)));
        Assert.That(stored.Pixels.Take(4), Is.EqualTo(new byte[] { 200, 100, 50, 77 }));
        Assert.That(stored.Text, Is.EqualTo(new[] { ("prompt", "{\"1\":{}}") }));

        var missing = new JsonObject { ["filename"] = "nope.png", ["type"] = "input" }.ToJsonString();
        Assert.That((await Upload(server, mask, "m.png", "/upload/mask", ("original_ref", missing))).Status, Is.EqualTo(404));
        var escaping = new JsonObject { ["filename"] = "secret.txt", ["subfolder"] = "../..", ["type"] = "input" }.ToJsonString();
        Assert.That((await Upload(server, mask, "m.png", "/upload/mask", ("original_ref", escaping))).Status, Is.EqualTo(400));
        var smaller = TestPng.Create(1, 1, 0, 0, 0, 0);
        var good = new JsonObject { ["filename"] = "photo.png", ["type"] = "input" }.ToJsonString();
        Assert.That((await Upload(server, smaller, "m.png", "/upload/mask", ("original_ref", good))).Status, Is.EqualTo(400));
    }

    [Test]
    public async Task A_jpeg_original_takes_the_mask_and_is_stored_as_png()
    {
        await using var server = await ComfyServer.StartAsync();
        var photo = new byte[4 * 2 * 3];
        Array.Fill(photo, (byte)128);
        ViewTests.Write(server.Folders.Input, "photo.jpg", ImageDecoder.EncodeWithVips(new DecodedImage(4, 2, 3, photo), ".jpg"));
        var mask = TestPng.Create(4, 2, 0, 0, 0, 33);
        var reference = new JsonObject { ["filename"] = "photo.jpg", ["type"] = "input" }.ToJsonString();

        var (status, body) = await Upload(server, mask, "photo-mask.png", "/upload/mask", ("original_ref", reference), ("type", "input"));

        Assert.That(status, Is.EqualTo(200), body);
        var stored = File.ReadAllBytes(Path.Combine(server.Folders.Input, "photo-mask.png"));
        Assert.That(PngText.IsPng(stored), Is.True);
        var decoded = TestPng.Decode(stored);
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((4, 2)));
        Assert.That(decoded.Pixels.Where((_, i) => i % 4 == 3), Has.All.EqualTo((byte)33));
        Assert.That(decoded.Pixels.Where((_, i) => i % 4 != 3), Has.All.InRange((byte)124, (byte)132), "JPEG grey, within its loss");
    }

    internal static Task<(int Status, string Body)> Upload(ComfyServer server, byte[] bytes, string fileName, params (string, string)[] fields) =>
        Upload(server, bytes, fileName, "/upload/image", fields);

    internal static Task<(int Status, string Body)> Upload(ComfyServer server, byte[] bytes, string fileName, string path, params (string, string)[] fields) =>
        Upload(server, bytes, fileName, path, chunked: false, fields);

    internal static Task<(int Status, string Body)> Upload(ComfyServer server, byte[] bytes, string fileName, bool chunked) =>
        Upload(server, bytes, fileName, "/upload/image", chunked);

    private static async Task<(int Status, string Body)> Upload(ComfyServer server, byte[] bytes, string fileName, string path, bool chunked,
        params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        HttpContent file = chunked ? new StreamContent(new NonSeekableStream(bytes)) : new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", fileName);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
        if (chunked) request.Headers.TransferEncodingChunked = true;
        else request.Headers.ExpectContinue = true;
        using var response = await server.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A body whose length HttpClient cannot know, so it is sent chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    /// <summary>Every file under the data folder but the job store (jobs.db and its WAL files).</summary>
    private static string[] UploadedFiles(ComfyServer server) =>
        Directory.GetFiles(server.Folders.Root, "*", new EnumerationOptions { RecurseSubdirectories = true })
            .Where(f => !Path.GetFileName(f).StartsWith(CharacterGen.Server.Storage.SqliteJobStore.DefaultFileName, StringComparison.Ordinal)).ToArray();
}
