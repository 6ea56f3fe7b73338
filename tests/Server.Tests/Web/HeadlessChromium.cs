using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.Web;

/// <summary>
/// Debian's chromium, headless, driven over the Chrome DevTools Protocol on a WebSocket (no extra package, no browser
/// download): navigate, evaluate script, wait for a condition, set the viewport, take screenshots.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Starts chromium on an empty page; without chromium the test is skipped, or fails under CI=true.</summary>
    public static async Task<HeadlessChromium> StartAsync(int width = 1280, int height = 800)
    {
        if (!File.Exists(Executable)) Prerequisites.Missing($"{Executable} is not installed (apt-get install chromium).");
        var profile = Path.Combine(Path.GetTempPath(), "cg-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[]
                 {
                     "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     $"--window-size={width},{height}", "about:blank",
                 })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            await browser.ConnectAsync();
            await browser.SendAsync("Page.enable");
            await browser.SetViewportAsync(width, height);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    private async Task ConnectAsync()
    {
        // Chromium writes its port to DevToolsActivePort once it listens; the page target is listed over HTTP.
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(portFile) || (await File.ReadAllLinesAsync(portFile)).Length < 2)
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode}");
            if (deadline.Elapsed > CommandTimeout) throw new TimeoutException("chromium did not open its DevTools port");
            await Task.Delay(100);
        }
        var port = int.Parse((await File.ReadAllLinesAsync(portFile))[0]);
        using var http = new HttpClient();
        var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
        var page = targets.First(t => (string?)t!["type"] == "page")!;
        await _socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None);
        _reader = Task.Run(ReadAsync);
    }

    public async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var answer = await reply.Task.WaitAsync(CommandTimeout);
        if (answer["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return answer["result"]!.AsObject();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && _pending.TryRemove((int)id, out var reply)) reply.TrySetResult(json);
            }
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException)
        {
        }
        foreach (var reply in _pending.Values) reply.TrySetException(new InvalidOperationException("DevTools connection closed"));
    }

    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitForAsync("document.readyState === 'complete'", TimeSpan.FromSeconds(60));
    }

    public Task SetViewportAsync(int width, int height, bool mobile = false) =>
        SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = mobile,
        });

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true,
        });
        if (result["exceptionDetails"] is { } exception) throw new InvalidOperationException($"{expression}: {exception.ToJsonString()}");
        return result["result"]!["value"]?.DeepClone();
    }

    /// <summary>Polls until <paramref name="condition"/> is truthy in the page.</summary>
    public async Task WaitForAsync(string condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync($"!!({condition})");
            if (value is not null && value.GetValue<bool>()) return;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"not true after {timeout.TotalSeconds:0} s: {condition}; page text: {await EvaluateAsync("document.body.innerText")}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Presses one key as the keyboard would (keyDown with its text, then keyUp), so focus moves, :focus-visible
    /// applies and buttons activate as for a person: "Tab", "Shift+Tab", "Enter", " ", "ArrowDown", or one character.
    /// </summary>
    public async Task PressAsync(string key)
    {
        var shift = key.StartsWith("Shift+", StringComparison.Ordinal);
        if (shift) key = key["Shift+".Length..];
        var (code, keyCode, text) = key switch
        {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            " " => ("Space", 32, " "),
            "Escape" => ("Escape", 27, ""),
            "ArrowDown" => ("ArrowDown", 40, ""),
            "ArrowUp" => ("ArrowUp", 38, ""),
            "Backspace" => ("Backspace", 8, ""),
            _ when key.Length == 1 && char.IsAsciiLetter(key[0]) => ("Key" + char.ToUpperInvariant(key[0]), char.ToUpperInvariant(key[0]), key),
            _ when key.Length == 1 && char.IsAsciiDigit(key[0]) => ("Digit" + key, key[0], key),
            _ when key.Length == 1 => ("", 0, key), // punctuation: its text is what the page sees
            _ => throw new ArgumentException($"no key code for {key}", nameof(key)),
        };
        foreach (var type in new[] { "keyDown", "keyUp" })
        {
            var parameters = new JsonObject
            {
                ["type"] = type, ["key"] = key, ["code"] = code, ["windowsVirtualKeyCode"] = keyCode, ["nativeVirtualKeyCode"] = keyCode,
                ["modifiers"] = shift ? 8 : 0,
            };
            if (type == "keyDown" && text.Length > 0) parameters["text"] = text;
            await SendAsync("Input.dispatchKeyEvent", parameters);
        }
    }

    /// <summary>Types <paramref name="text"/> key by key into the focused element.</summary>
    public async Task TypeAsync(string text)
    {
        foreach (var c in text) await PressAsync(c.ToString());
    }

    /// <summary>A PNG of the viewport, or of the element <paramref name="selector"/> names.</summary>
    public async Task<byte[]> ScreenshotAsync(string? selector = null)
    {
        var parameters = new JsonObject { ["format"] = "png" };
        if (selector is not null)
        {
            var box = (await EvaluateAsync(
                $"(() => {{ const r = document.querySelector({JsonSerializer.Serialize(selector)}).getBoundingClientRect(); " +
                "return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; })()"))!.AsObject();
            box["scale"] = 1;
            parameters["clip"] = box;
            parameters["captureBeyondViewport"] = true;
        }
        var result = await SendAsync("Page.captureScreenshot", parameters);
        return Convert.FromBase64String((string)result["data"]!);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _reader; } catch { /* the socket is going away with the process */ }
        _socket.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { /* chromium's late writes */ }
    }
}
