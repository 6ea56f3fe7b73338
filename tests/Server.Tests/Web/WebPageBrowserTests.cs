using System.Text.Json;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.ComfyApi;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.Web;

/// <summary>
/// The built web page (web/dist) in headless Chromium against the real server with the SD1.5 nodes and a tiny
/// checkpoint: run txt2img_sd15 from the saved-workflow picker, watch progress and previews, find the image in the
/// gallery; cancel a long job; the key prompt when auth is on. CG_WEB_SCREENSHOTS=DIR also saves each screen there.
/// </summary>
[Category("Browser")]
public sealed class WebPageBrowserTests
{
    private const string ApiKey = "web-page-test-key-0123456789";
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);

    internal static string WebRoot()
    {
        var root = Path.Combine(Repository.Root, "web", "dist");
        if (!File.Exists(Path.Combine(root, "index.html")))
            Prerequisites.Missing("the web page is not built (cd web && npm ci && npm run build; scripts/test.sh does).");
        return root;
    }

    internal static async Task<ComfyServer> StartServerAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var webRoot = WebRoot();
        var server = await ComfyServer.StartAsync(o =>
        {
            var options = o with { WebRoot = webRoot, WorkflowsDir = Path.Combine(Repository.Root, "workflows") };
            return configure?.Invoke(options) ?? options;
        }, builtinNodes: true);
        TinyModelWriter.WriteSd15(Path.Combine(server.Options.ModelsDir, "checkpoints", "tiny.safetensors"), seed: 5);
        return server;
    }

    private static async Task SaveScreenshotAsync(HeadlessChromium browser, string name)
    {
        if (Environment.GetEnvironmentVariable("CG_WEB_SCREENSHOTS") is { Length: > 0 } folder)
            await File.WriteAllBytesAsync(Path.Combine(folder, name + ".png"), await browser.ScreenshotAsync());
    }

    /// <summary>Picks a saved workflow in the Run screen and waits for its inputs.</summary>
    internal static async Task PickSavedWorkflowAsync(HeadlessChromium browser, string name)
    {
        await browser.WaitForAsync($"[...document.querySelectorAll('select[name=saved] option')].some(o => o.value === '{name}')", Slow);
        await browser.EvaluateAsync($"(() => {{ const s = document.querySelector('select[name=saved]'); s.value = '{name}'; s.dispatchEvent(new Event('change')); }})()");
        await browser.WaitForAsync("document.querySelector('[name=\"3.steps\"]')", Slow);
    }

    private static Task SetAsync(HeadlessChromium browser, string name, object value) =>
        browser.EvaluateAsync($"(() => {{ const e = document.querySelector('[name=\"{name}\"]'); e.value = {JsonSerializer.Serialize(value.ToString())}; e.dispatchEvent(new Event('input')); }})()");

    [Test]
    public async Task Runs_txt2img_with_live_progress_and_previews_then_shows_the_image_in_the_gallery()
    {
        await using var server = await StartServerAsync();
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server.HttpAddress.ToString());
        await PickSavedWorkflowAsync(browser, "txt2img_sd15");

        // Every control has a label, and the checkpoint list comes from the server's models.
        Assert.That((await browser.EvaluateAsync(
            "[...document.querySelectorAll('input, select, textarea')].filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)"))!
            .AsArray(), Is.Empty);
        await browser.WaitForAsync("[...document.querySelector('[name=\"4.ckpt_name\"]').options].some(o => o.value === 'tiny.safetensors')", Slow);
        await SetAsync(browser, "4.ckpt_name", "tiny.safetensors");
        await SetAsync(browser, "6.text", "a red circle");
        await SetAsync(browser, "3.seed", 42);
        await SetAsync(browser, "3.steps", 12);
        await SetAsync(browser, "5.width", 64);
        await SetAsync(browser, "5.height", 64);
        await SaveScreenshotAsync(browser, "run");
        // Record every value the sampler's bar takes, however fast the steps go.
        await browser.EvaluateAsync("""
            window.seen = [];
            new MutationObserver(() => { const p = document.getElementById('node-3'); if (p) window.seen.push(p.value); })
              .observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
            """);
        await browser.EvaluateAsync("document.querySelector('form.run').requestSubmit()");

        await browser.WaitForAsync("location.hash === '#/live'", Slow);
        await browser.WaitForAsync("document.querySelector('main [role=status]')?.textContent === 'Succeeded.'", Slow);
        var seen = (await browser.EvaluateAsync("window.seen"))!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.That(seen.Distinct().Count(), Is.GreaterThanOrEqualTo(3), $"bar values {string.Join(",", seen)}");
        Assert.That(seen, Is.Ordered, "the bar only moves forward");
        Assert.That(seen[^1], Is.EqualTo(12));
        Assert.That((await browser.EvaluateAsync("Number(document.querySelector('img.preview').dataset.count ?? 0)"))!.GetValue<int>(), Is.GreaterThanOrEqualTo(1));
        Assert.That((await browser.EvaluateAsync("document.querySelector('img.preview').naturalWidth"))!.GetValue<int>(), Is.GreaterThan(0));
        await SaveScreenshotAsync(browser, "live");

        await browser.EvaluateAsync("location.hash = '#/outputs'");
        await browser.WaitForAsync("document.querySelector('.gallery img.output')?.complete && document.querySelector('.gallery img.output').naturalWidth > 0", Slow);
        await browser.WaitForAsync("document.querySelectorAll('.history li').length === 1", Slow);
        Assert.That((await browser.EvaluateAsync("document.querySelector('.meta .prompt').textContent"))!.GetValue<string>(), Is.EqualTo("a red circle"));
        Assert.That((await browser.EvaluateAsync("document.querySelector('.meta .seed').textContent"))!.GetValue<string>(), Is.EqualTo("42"));
        var workflow = (await browser.EvaluateAsync("fetch(document.querySelector('a[download]').href).then(r => r.json())"))!;
        Assert.That((string?)workflow["6"]!["inputs"]!["text"], Is.EqualTo("a red circle"));
        Assert.That((string?)workflow["4"]!["inputs"]!["ckpt_name"], Is.EqualTo("tiny.safetensors"));
        await SaveScreenshotAsync(browser, "outputs");

        // The gallery image as rendered: many colours, not one flat fill.
        var shot = CharacterGen.Diffusion.Imaging.ImageDecoder.Decode(await browser.ScreenshotAsync(".gallery img.output"));
        var colours = new HashSet<int>();
        for (var i = 0; i < shot.Pixels.Length; i += shot.Channels) colours.Add(shot.Pixels[i] << 16 | shot.Pixels[i + 1] << 8 | shot.Pixels[i + 2]);
        Assert.That(colours, Has.Count.GreaterThan(50), $"{shot.Width}x{shot.Height} screenshot");
        var job = server.Engine.ListJobs().Single();
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task Cancels_a_long_job_from_the_live_screen()
    {
        await using var server = await StartServerAsync();
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server.HttpAddress.ToString());
        await PickSavedWorkflowAsync(browser, "txt2img_sd15");
        await SetAsync(browser, "4.ckpt_name", "tiny.safetensors");
        await SetAsync(browser, "3.steps", 10000);
        await SetAsync(browser, "5.width", 64);
        await SetAsync(browser, "5.height", 64);
        await browser.EvaluateAsync("document.querySelector('form.run').requestSubmit()");

        await browser.WaitForAsync("document.getElementById('node-3')?.value >= 2", Slow);
        await browser.EvaluateAsync("[...document.querySelectorAll('main button')].find(b => b.textContent === 'Cancel').click()");
        await browser.WaitForAsync("document.querySelector('main [role=status]')?.textContent === 'Cancelled.'", Slow);

        Assert.That((await browser.EvaluateAsync("document.getElementById('node-3').value"))!.GetValue<double>(), Is.LessThan(10000));
        Assert.That(server.Engine.ListJobs().Single().Status, Is.EqualTo(JobStatus.Cancelled));
    }

    [Test]
    public async Task With_auth_on_the_page_asks_for_the_key_and_shows_no_data_until_it_is_given()
    {
        await using var server = await StartServerAsync(o => o with { Auth = new AuthOptions { ApiKeys = [ApiKey] } });
        await using var browser = await HeadlessChromium.StartAsync(390, 844);
        await browser.SetViewportAsync(390, 844, mobile: true);
        await browser.NavigateAsync(server.HttpAddress.ToString());

        await browser.WaitForAsync("!document.querySelector('form.key').hidden", Slow);
        Assert.That((await browser.EvaluateAsync("document.querySelector('main').hidden && document.querySelector('main').children.length === 0"))!.GetValue<bool>());
        Assert.That((await browser.EvaluateAsync("document.querySelector('select[name=saved]')")), Is.Null);
        Assert.That((await browser.EvaluateAsync("document.activeElement.name"))!.GetValue<string>(), Is.EqualTo("apiKey"));
        await SaveScreenshotAsync(browser, "key");

        await browser.EvaluateAsync("document.querySelector('[name=apiKey]').value = 'wrong-key-0123456789'; document.querySelector('form.key').requestSubmit()");
        await browser.WaitForAsync("document.querySelector('form.key [role=status]').textContent === 'That key was refused.'", Slow);
        Assert.That((await browser.EvaluateAsync("document.querySelector('main').hidden"))!.GetValue<bool>());

        await browser.EvaluateAsync($"document.querySelector('[name=apiKey]').value = '{ApiKey}'; document.querySelector('form.key').requestSubmit()");
        await browser.WaitForAsync("!document.querySelector('main').hidden", Slow);
        await PickSavedWorkflowAsync(browser, "txt2img_sd15");
        Assert.That((await browser.EvaluateAsync("sessionStorage.getItem('charactergen.apiKey')"))!.GetValue<string>(), Is.EqualTo(ApiKey));
        Assert.That((await browser.EvaluateAsync("localStorage.length"))!.GetValue<int>(), Is.Zero);
        // The phone-sized viewport needs no sideways scrolling.
        Assert.That((await browser.EvaluateAsync("document.documentElement.scrollWidth <= innerWidth"))!.GetValue<bool>());
        await SaveScreenshotAsync(browser, "run-phone");
    }
}
