using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.Server.Tests.Web;

/// <summary>
/// The Run screen with the keyboard alone (key events over the DevTools protocol, no clicks and no scripted values):
/// Tab visits every control in document order with a visible focus ring, a saved workflow is chosen by typing its
/// name, fields are edited by typing, and Space on Run submits the job, which then runs.
/// </summary>
[Category("Browser")]
public sealed class WebPageKeyboardTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);

    // What the page's own script says about the focused element: a name for it, and whether its focus shows.
    private const string Focused = """
        (() => {
          const e = document.activeElement, style = getComputedStyle(e);
          return { name: e.tagName.toLowerCase() + ':' + (e.name || e.textContent.trim()), visible: e.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
        })()
        """;

    // Every control a person can reach on the screen, in document order.
    private const string Controls = """
        [...document.querySelectorAll('nav a, main input, main select, main textarea, main button')]
          .filter(e => !e.disabled && e.offsetParent !== null).map(e => e.tagName.toLowerCase() + ':' + (e.name || e.textContent.trim()))
        """;

    [Test]
    public async Task Tab_reaches_every_run_control_with_visible_focus_and_space_submits_the_job()
    {
        await using var server = await WebPageBrowserTests.StartServerAsync();
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server.HttpAddress.ToString());
        await browser.WaitForAsync("[...document.querySelectorAll('select[name=saved] option')].some(o => o.value === 'txt2img_sd15')", TimeSpan.FromMinutes(3));

        // From the top of the page: Tab through everything, recording each stop, choosing the saved workflow by
        // typing its name on the list and editing fields by typing, until the Run button.
        var visited = new List<string>();
        var hidden = new List<string>();
        async Task<string> TabAsync()
        {
            await browser.PressAsync("Tab");
            var focused = await FocusedAsync(browser);
            visited.Add((string)focused["name"]!);
            if (!(bool)focused["visible"]!) hidden.Add(visited[^1]);
            return visited[^1];
        }
        while (visited.Count < 10 && await TabAsync() != "select:saved") { }
        Assert.That(visited[^1], Is.EqualTo("select:saved"));
        await browser.TypeAsync("txt2img_sd15");
        await browser.WaitForAsync("document.querySelector('[name=\"3.steps\"]')", Slow);
        await browser.WaitForAsync("[...document.querySelector('[name=\"4.ckpt_name\"]').options].some(o => o.value === 'tiny.safetensors')", Slow);
        var expected = (await browser.EvaluateAsync(Controls))!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        while (visited.Count < expected.Count + 5)
        {
            var name = await TabAsync();
            switch (name)
            {
                case "select:4.ckpt_name": await browser.TypeAsync("tiny"); break;
                case "input:3.steps": await ReplaceAsync(browser, "2"); break;
                case "input:5.width" or "input:5.height": await ReplaceAsync(browser, "64"); break;
            }
            if (name == "button:Run") break;
        }

        Assert.That(visited, Is.EqualTo(expected), "Tab order is document order and reaches every control");
        Assert.That(hidden, Is.Empty, "controls whose focus did not show");
        Assert.That(expected, Does.Contain("textarea:6.text").And.Contain("input:3.seed:randomise").And.Contain("button:Run"));

        await browser.PressAsync(" ");
        await browser.WaitForAsync("location.hash === '#/live'", Slow);
        await browser.WaitForAsync("document.querySelector('main [role=status]')?.textContent === 'Succeeded.'", Slow);
        Assert.That((await browser.EvaluateAsync("document.getElementById('node-3').max"))!.GetValue<double>(), Is.EqualTo(2), "the typed step count was sent");
        var job = server.Engine.ListJobs().Single();
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
    }

    private static async Task<JsonObject> FocusedAsync(HeadlessChromium browser) => (await browser.EvaluateAsync(Focused))!.AsObject();

    /// <summary>Clears the focused field with Backspace and types <paramref name="text"/>.</summary>
    private static async Task ReplaceAsync(HeadlessChromium browser, string text)
    {
        var length = (await browser.EvaluateAsync("String(document.activeElement.value).length"))!.GetValue<int>();
        for (var i = 0; i < length; i++) await browser.PressAsync("Backspace");
        await browser.TypeAsync(text);
    }
}
