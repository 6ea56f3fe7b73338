using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.WorkflowsApi.Support;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>The REST/JSON routes transcoded from the protos' google.api.http rules, end to end over HttpClient.</summary>
public sealed class JsonTranscodingTests
{
    private const string ApiKey = "json-routes-test-key-0123456789";
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    private WorkflowServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await WorkflowServer.StartAsync(configure: o => o with { Auth = new AuthOptions { ApiKeys = [ApiKey] } });
        _http = new HttpClient { BaseAddress = _server.HttpAddress, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Add("x-api-key", ApiKey);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [TearDown]
    public Task Reset() => _server.ResetAsync();

    [Test]
    public async Task Run_streams_every_event_as_json_until_success()
    {
        using var response = await _http.PostAsync("/v1/workflows:run", Json(RunBody(TestWorkflows.Pipeline(5, steps: 3))));

        var events = JsonObjects(await response.Content.ReadAsStringAsync());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(events[0]["queued"], Is.Not.Null);
        Assert.That(events.Count(e => e["nodeProgress"] is not null), Is.EqualTo(3));
        Assert.That(events[^1]["succeeded"], Is.Not.Null);
        var jobId = events[0]["jobId"]!.GetValue<string>();
        var job = await _http.GetFromJsonAsync<JsonObject>($"/v1/jobs/{jobId}");
        Assert.That(job!["job"]!["state"]!.GetValue<string>(), Is.EqualTo("JOB_STATE_SUCCEEDED"));
    }

    [Test]
    public async Task Submitted_job_is_watched_as_a_stream_and_cancelled()
    {
        var submitted = await _http.PostAsync("/v1/jobs", Json(RunBody(TestWorkflows.Pipeline(5, gate: "json-" + Guid.NewGuid().ToString("N")))["submit"]!));
        var jobId = (await submitted.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<string>();
        using var watch = await _http.GetAsync($"/v1/jobs/{jobId}:watch", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());

        // Streamed: progress arrives while the job waits at its gate, before the response ends.
        var seen = new StringBuilder();
        var buffer = new char[4096];
        while (!seen.ToString().Contains("nodeProgress"))
        {
            var read = await reader.ReadAsync(buffer).AsTask().WaitAsync(Hang);
            Assert.That(read, Is.GreaterThan(0), "the stream ended before any progress");
            seen.Append(buffer, 0, read);
        }
        var cancel = await _http.PostAsync($"/v1/jobs/{jobId}:cancel", Json(new JsonObject()));
        seen.Append(await reader.ReadToEndAsync().WaitAsync(Hang));

        Assert.That((await cancel.Content.ReadFromJsonAsync<JsonObject>())!["cancellationRequested"]!.GetValue<bool>(), Is.True);
        Assert.That(JsonObjects(seen.ToString())[^1]["cancelled"], Is.Not.Null);
        Assert.That(await _server.FinishedAsync(jobId), Is.EqualTo(GraphRuntime.Execution.JobStatus.Cancelled));
    }

    [Test]
    public async Task Invalid_workflow_is_400_with_bad_request_details()
    {
        var response = await _http.PostAsync("/v1/jobs", Json(RunBody(TestWorkflows.Pipeline(5, steps: 1000))["submit"]!));

        var status = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(status!["code"]!.GetValue<int>(), Is.EqualTo((int)StatusCode.InvalidArgument));
        var badRequest = status["details"]!.AsArray().Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.BadRequest");
        Assert.That(badRequest!["fieldViolations"]!.AsArray().Select(v => v!["field"]!.GetValue<string>()), Does.Contain("nodes[\"2\"].inputs.steps"));
    }

    [Test]
    public async Task Unknown_job_is_404()
    {
        var response = await _http.GetAsync("/v1/jobs/no-such-job");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Models_are_listed()
    {
        var models = await _http.GetFromJsonAsync<JsonObject>("/v1/models");

        Assert.That(models!["folders"]!.AsArray().Select(f => f!["kind"]!.GetValue<string>()), Does.Contain("checkpoints"));
    }

    [Test]
    public async Task Routes_need_the_same_credentials_as_grpc()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.HttpAddress };

        var response = await anonymous.GetAsync("/v1/models");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<int>(), Is.EqualTo((int)StatusCode.Unauthenticated));
    }

    [Test]
    public async Task Server_serves_an_openapi_document_of_the_routes()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.HttpAddress };

        var document = await _http.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var refused = await anonymous.GetAsync("/openapi/v1.json");

        var paths = document!["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.That(paths, Is.SupersetOf(new[] { "/v1/workflows:run", "/v1/jobs", "/v1/jobs/{jobId}", "/v1/jobs/{jobId}:watch", "/v1/jobs/{jobId}:cancel", "/v1/models" }));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    private static JsonObject RunBody(string workflowJson) =>
        new() { ["submit"] = new JsonObject { ["workflow"] = new JsonObject { ["workflowJson"] = workflowJson } } };

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A streamed response: JSON objects one after another (separators tolerated).</summary>
    private static List<JsonObject> JsonObjects(string text)
    {
        var objects = new List<JsonObject>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.StartArray || reader.TokenType == JsonTokenType.EndArray) continue;
            objects.Add(JsonNode.Parse(ref reader)!.AsObject());
        }
        return objects;
    }
}
