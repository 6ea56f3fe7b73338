using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Web;

/// <summary>The HTTP port's static web page: content types, page-route fallback, API routes untouched, no escape.</summary>
public sealed class WebPageTests
{
    private static string BuiltPage()
    {
        var root = Path.Combine(Path.GetTempPath(), "cg-web-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "dist"));
        File.WriteAllText(Path.Combine(root, "dist", "index.html"), "<!doctype html><title>page</title>");
        File.WriteAllText(Path.Combine(root, "dist", "app.js"), "export {};");
        File.WriteAllText(Path.Combine(root, "secret.txt"), "outside the web root");
        return Path.Combine(root, "dist");
    }

    [Test]
    public async Task Serves_the_built_page_with_content_types_and_a_fallback_for_page_routes()
    {
        await using var server = await TestServer.StartAsync(o => o with { WebRoot = BuiltPage() });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        foreach (var path in new[] { "/", "/live", "/outputs/abc" })
        {
            var page = await http.GetAsync(path);
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
            Assert.That(page.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/html"), path);
            Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("<title>page</title>"), path);
            Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.StartWith("default-src 'self'"), path);
        }
        var script = await http.GetAsync("/app.js");
        Assert.That(script.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/javascript"));
        Assert.That(script.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));

        Assert.That((await http.GetAsync("/missing.js")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await http.GetAsync("/api/no-such-route")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var status = await http.GetFromJsonAsync<JsonElement>("/status");
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Serving"));
    }

    [TestCase("/..%2fsecret.txt")]
    [TestCase("/%2e%2e/secret.txt")]
    [TestCase("/..%5csecret.txt")]
    public async Task Never_serves_a_file_outside_the_web_root(string path)
    {
        await using var server = await TestServer.StartAsync(o => o with { WebRoot = BuiltPage() });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        var response = await http.GetAsync(path);

        Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("outside the web root"));
    }

    [Test]
    public async Task Without_a_built_page_the_root_says_how_to_build_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "cg-web-tests", Guid.NewGuid().ToString("N"));
        await using var server = await TestServer.StartAsync(o => o with { WebRoot = missing });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        var root = await http.GetAsync("/");

        Assert.That(root.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(root.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));
        Assert.That(await root.Content.ReadAsStringAsync(), Is.EqualTo(WebPage.NotBuiltText));
    }

    [Test]
    public async Task Lists_and_reads_saved_workflows_inside_their_folder_only()
    {
        var workflows = Path.Combine(Path.GetTempPath(), "cg-web-tests", Guid.NewGuid().ToString("N"), "workflows");
        Directory.CreateDirectory(Path.Combine(workflows, "characters"));
        await File.WriteAllTextAsync(Path.Combine(workflows, "portrait.json"), """{"1": {"class_type": "X", "inputs": {}}}""");
        await File.WriteAllTextAsync(Path.Combine(workflows, "characters", "closeup.json"), "{}");
        await File.WriteAllTextAsync(Path.Combine(workflows, "notes.txt"), "not a workflow");
        await File.WriteAllTextAsync(Path.Combine(workflows, "..", "outside.json"), "{}");
        File.CreateSymbolicLink(Path.Combine(workflows, "escape.json"), Path.Combine(workflows, "..", "outside.json"));
        await using var server = await TestServer.StartAsync(o => o with { WorkflowsDir = workflows });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        var names = await http.GetFromJsonAsync<string[]>("/api/workflows");
        var portrait = await http.GetStringAsync("/api/workflows/portrait");

        Assert.That(names, Is.EqualTo(new[] { "characters/closeup", "portrait" })); // not notes.txt, nor the link leading out
        Assert.That(JsonDocument.Parse(portrait).RootElement.GetProperty("1").GetProperty("class_type").GetString(), Is.EqualTo("X"));
        Assert.That((await http.GetAsync("/api/workflows/characters/closeup.json")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await http.GetAsync("/api/workflows/missing")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await http.GetAsync("/api/workflows/escape")).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await http.GetAsync("/api/workflows/..%2foutside")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
