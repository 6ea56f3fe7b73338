using System.Security.Cryptography;
using System.Text.Json;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.Characters;
using State = CharacterGen.Protos.V1.CharacterState;

namespace CharacterGen.Server.Tests.Web;

/// <summary>
/// The Characters screens of the built page in headless Chromium against the real server on the tiny checkpoint the
/// character tests use: the whole flow (create with a photo → refusals shown → regenerate → approve → training set →
/// curate → train → scene) by clicking, and the loss chart drawing during training. CG_WEB_SCREENSHOTS=DIR saves the
/// screens there (the docs' images).
/// </summary>
[Category("Browser")]
public sealed class CharacterPageBrowserTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3); // a hang guard on a loaded machine

    private const string Base = "section[aria-labelledby=base-title]";
    private const string Set = "section[aria-labelledby=set-title]";
    private const string Train = "section[aria-labelledby=train-title]";
    private const string Scene = "section[aria-labelledby=scene-title]";

    private const int MinTrainingImages = 3; // fewer renders than the default 5, for a short test

    private static Task<CharacterTestServer> StartAsync() =>
        CharacterTestServer.StartAsync(o => o with { MinTrainingImages = MinTrainingImages },
            server: o => o with { WebRoot = WebPageBrowserTests.WebRoot() });

    private static Task FillAsync(HeadlessChromium browser, string name, object value) =>
        browser.EvaluateAsync($"(() => {{ const e = document.querySelector('[name=\"{name}\"]'); e.value = {JsonSerializer.Serialize(value.ToString())}; e.dispatchEvent(new Event('input')); }})()");

    /// <summary>Clicks the first button with this text inside the elements <paramref name="scope"/> selects.</summary>
    private static Task ClickAsync(HeadlessChromium browser, string scope, string text) =>
        browser.EvaluateAsync($"[...document.querySelectorAll({JsonSerializer.Serialize(scope + " button")})].find(b => b.textContent === {JsonSerializer.Serialize(text)}).click()");

    private static async Task<string> TextAsync(HeadlessChromium browser, string selector) =>
        (await browser.EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(selector)})?.textContent ?? ''"))!.GetValue<string>();

    private static Task WaitForStateAsync(HeadlessChromium browser, string state) =>
        browser.WaitForAsync($"document.querySelector('.state-line')?.textContent === 'State: {state}'", Slow);

    /// <summary>Waits until every image under <paramref name="selector"/> has loaded (count of them given).</summary>
    private static Task WaitForImagesAsync(HeadlessChromium browser, string selector, int count) =>
        browser.WaitForAsync($"(() => {{ const i = [...document.querySelectorAll({JsonSerializer.Serialize(selector)})]; " +
                             $"return i.length === {count} && i.every(e => e.complete && e.naturalWidth > 0); }})()", Slow);

    private static async Task SaveScreenshotAsync(HeadlessChromium browser, string name, string? scrollTo = null)
    {
        if (Environment.GetEnvironmentVariable("CG_WEB_SCREENSHOTS") is not { Length: > 0 } folder) return;
        if (scrollTo is not null) await browser.EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(scrollTo)}).scrollIntoView()");
        await File.WriteAllBytesAsync(Path.Combine(folder, name + ".png"), await browser.ScreenshotAsync());
    }

    private static async Task<int> ColoursAsync(HeadlessChromium browser, string selector)
    {
        var shot = CharacterGen.Diffusion.Imaging.ImageDecoder.Decode(await browser.ScreenshotAsync(selector));
        var colours = new HashSet<int>();
        for (var i = 0; i < shot.Pixels.Length; i += shot.Channels) colours.Add(shot.Pixels[i] << 16 | shot.Pixels[i + 1] << 8 | shot.Pixels[i + 2]);
        return colours.Count;
    }

    [Test]
    public async Task Walks_create_approve_training_set_train_and_scene_by_clicking()
    {
        await using var host = await StartAsync();
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(new Uri(host.Server.HttpAddress, "#/characters").ToString());
        await browser.WaitForAsync("document.querySelector('main [role=status]')?.textContent === 'No characters yet: create one.'", Slow);
        await browser.WaitForAsync("[...document.querySelector('[name=checkpoint]').options].some(o => o.value === 'character-test.safetensors')", Slow);

        // Create from a description and a photo drawn in the page (uploaded through Assets.Upload, then img2img).
        await FillAsync(browser, "description", "a knight with red hair");
        await FillAsync(browser, "name", "Knight");
        await FillAsync(browser, "create.seed", 11);
        var photo = Convert.FromBase64String((await browser.EvaluateAsync("""
            (async () => {
              const c = document.createElement('canvas'); c.width = 64; c.height = 64;
              const g = c.getContext('2d'); g.fillStyle = '#c22'; g.fillRect(0, 0, 64, 64); g.fillStyle = '#fff'; g.fillRect(16, 16, 32, 32);
              const blob = await new Promise(done => c.toBlob(done, 'image/png'));
              const files = new DataTransfer(); files.items.add(new File([blob], 'photo.png', { type: 'image/png' }));
              document.querySelector('[name=photo]').files = files.files;
              const bytes = new Uint8Array(await blob.arrayBuffer());
              return btoa(String.fromCharCode(...bytes));
            })()
            """))!.GetValue<string>());
        await SaveScreenshotAsync(browser, "web-character-create");
        await ClickAsync(browser, "form.create", "Create");
        await browser.WaitForAsync("/^#\\/characters\\/c-[0-9a-f]+$/.test(location.hash)", Slow);
        await WaitForImagesAsync(browser, $"{Base} .candidates img", 1);
        var id = (await browser.EvaluateAsync("location.hash.split('/')[2]"))!.GetValue<string>();
        var assets = new Protos.V1.Assets.AssetsClient(host.Channel);
        var stored = await assets.StatAsync(new StatAssetRequest { AssetId = Convert.ToHexStringLower(SHA256.HashData(photo)) });
        Assert.That(stored.Info.FileName, Is.EqualTo("photo.png"), "the photo went through the Assets service");
        Assert.That(await TextAsync(browser, $"{Base} .candidates .seed"), Is.EqualTo("seed 11"));
        await WaitForStateAsync(browser, "initial");
        Assert.That((await browser.EvaluateAsync(
            "[...document.querySelectorAll('main input, main select, main textarea')].filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)"))!
            .AsArray(), Is.Empty, "every control has a label");

        // The service's refusal in the wrong state is shown as an alert, and nothing changes.
        await ClickAsync(browser, Train, "Train");
        await browser.WaitForAsync($"document.querySelector('{Train} [role=alert]')", Slow);
        Assert.That(await TextAsync(browser, $"{Train} [role=alert]"),
            Does.StartWith("Refused (failed precondition): Character " + id + " is in state initial; Train needs"));

        await FillAsync(browser, "regenerate.seed", 12);
        await ClickAsync(browser, Base, "Regenerate");
        await WaitForImagesAsync(browser, $"{Base} .candidates img", 2);
        Assert.That(await TextAsync(browser, $"{Base} figure:nth-child(2) .seed"), Is.EqualTo("seed 12"));
        await SaveScreenshotAsync(browser, "web-character-base", Base);
        await ClickAsync(browser, $"{Base} figure:nth-child(2)", "Approve");
        await WaitForStateAsync(browser, "base approved");
        await browser.WaitForAsync($"document.querySelector('{Base} figure:nth-child(2)').classList.contains('approved')", Slow);

        // Too few training images: the service's reason, as an alert.
        await ClickAsync(browser, Train, "Train");
        await browser.WaitForAsync($"document.querySelector('{Train} [role=alert]')?.textContent.includes('0 training images')", Slow);
        Assert.That(await TextAsync(browser, $"{Train} [role=alert]"), Does.Contain($"Train needs at least {MinTrainingImages}"));

        // The training set, with its bar recorded as it moves.
        await browser.EvaluateAsync("""
            window.seen = [];
            new MutationObserver(() => window.seen.push(document.getElementById('set-progress').value))
              .observe(document.getElementById('set-progress'), { attributes: true, attributeFilter: ['value'] });
            """);
        await FillAsync(browser, "set.count", MinTrainingImages + 1);
        await FillAsync(browser, "set.prompts", "character in battle pose");
        await ClickAsync(browser, Set, "Generate training set");
        await WaitForImagesAsync(browser, $"{Set} .training img", MinTrainingImages + 1);
        await WaitForStateAsync(browser, "base approved");
        await WaitForImagesAsync(browser, $"{Set} .training img", MinTrainingImages + 1); // the list is read again when the set is done
        Assert.That(await TextAsync(browser, $"{Set} .status"), Is.EqualTo($"Training set done: {MinTrainingImages + 1} image(s)."));
        var seen = (await browser.EvaluateAsync("window.seen"))!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.That(seen, Is.Ordered, $"the bar only moves forward: {string.Join(",", seen)}");
        Assert.That(seen.Distinct().Count(), Is.GreaterThanOrEqualTo(3), $"per-image progress: {string.Join(",", seen)}");
        Assert.That(seen[^1], Is.EqualTo(MinTrainingImages + 1));
        Assert.That(await TextAsync(browser, $"{Set} figure:first-child .prompt"), Is.EqualTo("character in battle pose"));

        // Curate: view one, delete one, regenerate one with a new prompt.
        await ClickAsync(browser, $"{Set} figure:first-child", "View");
        await browser.WaitForAsync("document.querySelector('dialog.viewer').open && document.querySelector('dialog.viewer img').naturalWidth > 0", Slow);
        await browser.PressAsync("Escape");
        await browser.WaitForAsync("!document.querySelector('dialog.viewer').open", Slow);
        await ClickAsync(browser, $"{Set} figure:last-child", "Delete");
        await browser.WaitForAsync($"document.querySelectorAll('{Set} .training figure').length === {MinTrainingImages}", Slow);
        var before = (await browser.EvaluateAsync($"document.querySelector('{Set} figure:nth-child(2) img').dataset.assetId"))!.GetValue<string>();
        await browser.EvaluateAsync($"(() => {{ const e = document.querySelector('{Set} figure:nth-child(2) input'); e.value = 'character waving'; }})()");
        await ClickAsync(browser, $"{Set} figure:nth-child(2)", "Regenerate");
        await browser.WaitForAsync($"document.querySelector('{Set} figure:nth-child(2) .prompt')?.textContent === 'character waving'", Slow);
        await WaitForImagesAsync(browser, $"{Set} .training img", MinTrainingImages);
        Assert.That((await browser.EvaluateAsync($"document.querySelector('{Set} figure:nth-child(2) img').dataset.assetId"))!.GetValue<string>(), Is.Not.EqualTo(before));
        Assert.That((await host.Client.GetAsync(new GetCharacterRequest { CharacterId = id })).TrainingImageCount, Is.EqualTo(MinTrainingImages));
        await SaveScreenshotAsync(browser, "web-character-set", Set);

        // Train: progress and the loss chart, then READY.
        await FillAsync(browser, "train.rank", 4);
        await FillAsync(browser, "train.steps", 4);
        await FillAsync(browser, "train.learningRate", 0.001);
        await ClickAsync(browser, Train, "Train");
        await WaitForStateAsync(browser, "ready");
        await browser.WaitForAsync($"document.querySelector('{Train} .progress-text').textContent.startsWith('Step 4 of 4')", Slow);
        Assert.That(await TextAsync(browser, $"{Train} .lora"), Does.StartWith($"LoRA: {id}/"));
        Assert.That(await TextAsync(browser, $"{Train} .status"), Does.StartWith("Trained:"));
        Assert.That((await browser.EvaluateAsync($"document.querySelector('{Train} canvas').dataset.points"))!.GetValue<string>(), Is.EqualTo("4"));
        await SaveScreenshotAsync(browser, "web-character-train", Train);

        // A scene: the image and the seed used.
        await FillAsync(browser, "scene.prompt", "in a forest");
        await FillAsync(browser, "scene.seed", 3);
        await ClickAsync(browser, Scene, "Render scene");
        await WaitForImagesAsync(browser, $"{Scene} .scenes img", 1);
        Assert.That(await TextAsync(browser, $"{Scene} .scenes .seed"), Is.EqualTo("seed 3"));
        var trigger = (await host.Client.GetAsync(new GetCharacterRequest { CharacterId = id })).TriggerWord;
        Assert.That(await TextAsync(browser, $"{Scene} .scenes .prompt"), Does.StartWith(trigger).And.Contain("in a forest"));
        Assert.That(await ColoursAsync(browser, $"{Scene} .scenes img"), Is.GreaterThan(50), "the scene is not one flat fill");
        await SaveScreenshotAsync(browser, "web-character-scene", Scene);

        // The whole character page fits a phone's width (no sideways scrolling).
        await browser.SetViewportAsync(390, 844, mobile: true);
        Assert.That((await browser.EvaluateAsync("document.documentElement.scrollWidth <= innerWidth"))!.GetValue<bool>(),
            (await browser.EvaluateAsync("[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth).map(e => e.tagName + '.' + e.className).slice(0, 5).join(' ')"))!.ToString());
        await browser.SetViewportAsync(1280, 800);

        await browser.EvaluateAsync("location.hash = '#/characters'");
        await browser.WaitForAsync("document.querySelector('.characters li')?.dataset.state === 'ready'", Slow);
        await SaveScreenshotAsync(browser, "web-characters");
        Assert.That((await host.Client.GetAsync(new GetCharacterRequest { CharacterId = id })).State, Is.EqualTo(State.Ready));
    }

    [Test]
    public async Task The_loss_chart_draws_a_point_per_training_step_while_the_character_trains()
    {
        const int steps = 10;
        await using var host = await StartAsync();
        var client = host.Client;
        var created = await client.CreateAsync(new CreateCharacterRequest { Description = "a knight with red hair", Render = new RenderSettings { Seed = 1 } });
        var id = created.Character.CharacterId;
        await client.ApproveAsync(new ApproveRequest { CharacterId = id, CandidateId = created.Candidate.CandidateId });
        await client.GenerateTrainingSetAsync(new GenerateTrainingSetRequest { CharacterId = id, Count = MinTrainingImages });
        using (var idle = client.Watch(new WatchCharacterRequest { CharacterId = id, UntilIdle = true }))
            while (await idle.ResponseStream.MoveNext(CancellationToken.None)) { }

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(new Uri(host.Server.HttpAddress, $"#/characters/{id}").ToString());
        await WaitForStateAsync(browser, "base approved");
        await browser.WaitForAsync($"document.querySelector('{Train} canvas')", Slow);
        // Record the chart's point count at every redraw (a new chart replaces the old one when training starts).
        await browser.EvaluateAsync($$"""
            window.points = [];
            new MutationObserver((changes) => changes.filter(c => c.attributeName === 'data-points').forEach(c => window.points.push(Number(c.target.dataset.points))))
              .observe(document.querySelector('{{Train}}'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'] });
            """);
        await FillAsync(browser, "train.steps", steps);
        await FillAsync(browser, "train.rank", 4);
        await ClickAsync(browser, Train, "Train");

        await browser.WaitForAsync($"Number(document.querySelector('{Train} canvas').dataset.points ?? 0) >= 3", Slow);
        var drawnWhileTraining = await LinePixelsAsync(browser);
        var pointsThen = (await browser.EvaluateAsync($"Number(document.querySelector('{Train} canvas').dataset.points)"))!.GetValue<int>();
        await WaitForStateAsync(browser, "ready");

        var points = (await browser.EvaluateAsync("window.points"))!.AsArray().Select(v => v!.GetValue<int>()).ToList();
        Assert.That(points, Is.Ordered, $"points only added: {string.Join(",", points)}");
        Assert.That(points[^1], Is.EqualTo(steps), "one point per step");
        Assert.That(points.Distinct().Count(), Is.GreaterThanOrEqualTo(steps / 2), "the chart grew step by step, not at the end");
        TestContext.Out.WriteLine($"chart captured at {pointsThen} of {steps} points");
        Assert.That(drawnWhileTraining, Is.GreaterThan(100), "the smoothed-loss line is drawn on the canvas");
        Assert.That(await LinePixelsAsync(browser), Is.GreaterThan(100));
        Assert.That((await browser.EvaluateAsync($"document.querySelector('{Train} canvas').getAttribute('aria-label')"))!.GetValue<string>(),
            Does.StartWith($"Training loss per step: step {steps},"));
    }

    /// <summary>Pixels of the chart's screenshot in the smoothed line's orange (#e63), blended edges included.</summary>
    private static async Task<int> LinePixelsAsync(HeadlessChromium browser)
    {
        var shot = CharacterGen.Diffusion.Imaging.ImageDecoder.Decode(await browser.ScreenshotAsync($"{Train} canvas"));
        var count = 0;
        for (var i = 0; i < shot.Pixels.Length; i += shot.Channels)
            if (shot.Pixels[i] > 180 && shot.Pixels[i + 1] is > 60 and < 160 && shot.Pixels[i + 2] < 110) count++;
        return count;
    }
}
