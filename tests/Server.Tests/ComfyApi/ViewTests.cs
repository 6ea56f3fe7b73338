using System.Net;
using System.Text;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>GET /view: addressing, safe content types, and every traversal trick refused with one status.</summary>
public sealed class ViewTests
{
    private const string Secret = "TOP-SECRET-CONTENT";

    [Test]
    public async Task View_serves_input_output_temp_and_subfolders_with_safe_headers()
    {
        await using var server = await ComfyServer.StartAsync();
        var png = TestPng.Create(1, 1, 1, 2, 3, 255);
        Write(server.Folders.Input, "in.png", png);
        Write(Path.Combine(server.Folders.Output, "sub", "deeper"), "out.png", png);
        Write(server.Folders.Temp, "tmp.png", png);
        Write(server.Folders.Output, "name..with..dots.png", png);

        foreach (var query in new[]
                 {
                     "filename=in.png&type=input", "filename=in.png%20%5Binput%5D", "filename=out.png&subfolder=sub/deeper",
                     "filename=out.png&subfolder=sub%2Fdeeper&type=output", "filename=tmp.png&type=temp", "filename=name..with..dots.png",
                 })
        {
            using var response = await server.Http.GetAsync("/api/view?" + query);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), query);
            Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(png), query);
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("image/png"));
            Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
            Assert.That(response.Content.Headers.ContentDisposition!.DispositionType, Is.EqualTo("inline"));
        }
        using var missing = await server.Http.GetAsync("/view?filename=nope.png");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Channel_views_of_a_png_keep_only_colour_or_only_alpha()
    {
        await using var server = await ComfyServer.StartAsync();
        Write(server.Folders.Output, "rgba.png", TestPng.Create(2, 1, 10, 20, 30, 40));

        using var rgb = await server.Http.GetAsync("/view?filename=rgba.png&channel=rgb");
        Assert.That(TestPng.Decode(await rgb.Content.ReadAsByteArrayAsync()).Pixels, Is.EqualTo(new byte[] { 10, 20, 30, 255, 10, 20, 30, 255 }));
        using var alpha = await server.Http.GetAsync("/view?filename=rgba.png&channel=a");
        Assert.That(TestPng.Decode(await alpha.Content.ReadAsByteArrayAsync()).Pixels, Is.EqualTo(new byte[] { 0, 0, 0, 40, 0, 0, 0, 40 }));
        Assert.That(alpha.Content.Headers.ContentType!.MediaType, Is.EqualTo("image/png"));
        using var preview = await server.Http.GetAsync("/view?filename=rgba.png&preview=webp;90");
        Assert.That(await preview.Content.ReadAsByteArrayAsync(), Is.EqualTo(File.ReadAllBytes(Path.Combine(server.Folders.Output, "rgba.png"))),
            "no WebP encoder yet: the original");
    }

    [TestCase("evil.svg")]
    [TestCase("evil.html")]
    [TestCase("evil.htm")]
    [TestCase("evil.js")]
    [TestCase("evil.xml")]
    [TestCase("evil.css")]
    [TestCase("evil")]
    public async Task Active_content_is_only_ever_a_download(string name)
    {
        await using var server = await ComfyServer.StartAsync();
        Write(server.Folders.Input, name, Encoding.UTF8.GetBytes("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"));

        using var response = await server.Http.GetAsync($"/view?type=input&filename={name}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/octet-stream"));
        Assert.That(response.Content.Headers.ContentDisposition!.DispositionType, Is.EqualTo("attachment"));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(string.Join(";", response.Headers.GetValues("Content-Security-Policy")), Does.Contain("sandbox"));
    }

    [TestCase("filename=../secret.txt")]
    [TestCase("filename=..%2fsecret.txt")]
    [TestCase("filename=%2e%2e%2fsecret.txt")]
    [TestCase("filename=%2E%2E%2Fsecret.txt&type=input")]
    [TestCase("filename=%252e%252e%252fsecret.txt")]
    [TestCase("filename=..%5csecret.txt")]
    [TestCase("filename=secret.txt&subfolder=..")]
    [TestCase("filename=secret.txt&subfolder=%2e%2e")]
    [TestCase("filename=secret.txt&subfolder=..%2f..%2f..")]
    [TestCase("filename=secret.txt&subfolder=output/../..")]
    [TestCase("filename=secret.txt&subfolder=%252e%252e")]
    [TestCase("filename=SECRET_ABS")]
    [TestCase("filename=secret.txt&subfolder=SECRET_DIR")]
    [TestCase("filename=secret.txt%00.png")]
    [TestCase("filename=secret.txt&type=..")]
    [TestCase("filename=secret.txt&type=%2e%2e%2f")]
    [TestCase("filename=secret.txt&subfolder=outside_link&type=input")]
    [TestCase("filename=file_link.txt&type=input")]
    [TestCase("filename=secret.txt&subfolder=%2Fvar%2F..%2F")]
    public async Task Traversal_attempts_are_refused_and_nothing_outside_is_read(string query)
    {
        await using var server = await ComfyServer.StartAsync();
        var outside = Path.Combine(server.Folders.Root, "outside");
        Write(outside, "secret.txt", Encoding.UTF8.GetBytes(Secret));
        Write(server.Folders.Root, "secret.txt", Encoding.UTF8.GetBytes(Secret));
        Directory.CreateSymbolicLink(Path.Combine(server.Folders.Input, "outside_link"), outside);
        File.CreateSymbolicLink(Path.Combine(server.Folders.Input, "file_link.txt"), Path.Combine(outside, "secret.txt"));
        query = query.Replace("SECRET_ABS", Uri.EscapeDataString(Path.Combine(outside, "secret.txt")))
                     .Replace("SECRET_DIR", Uri.EscapeDataString(outside));

        using var response = await server.Http.GetAsync("/view?" + query);
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), query);
        Assert.That(body, Does.Not.Contain(Secret));
    }

    internal static void Write(string folder, string name, byte[] bytes)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
    }
}
