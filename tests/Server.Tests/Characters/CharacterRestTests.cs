using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// The same flow as <see cref="CharacterFlowTests"/> through the JSON routes transcoded from characters.proto, with a
/// plain HttpClient, the way a client without gRPC uses it; plus REST's status codes for refusals and the OpenAPI paths.
/// </summary>
[Category("Characters")]
public sealed class CharacterRestTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(15); // a hang guard on a loaded machine, not a timing assertion

    [Test]
    public async Task Create_to_scenes_over_rest()
    {
        await using var host = await CharacterTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = host.Server.HttpAddress, Timeout = Hang };

        var created = await PostAsync(http, "/v1/characters", new JsonObject { ["description"] = "a knight with red hair", ["render"] = new JsonObject { ["seed"] = 11 } });
        var id = created["character"]!["characterId"]!.GetValue<string>();
        Assert.That(created["character"]!["state"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_INITIAL"));
        var second = await PostAsync(http, $"/v1/characters/{id}:regenerate", new JsonObject());
        var candidates = (await http.GetFromJsonAsync<JsonObject>($"/v1/characters/{id}/candidates"))!["candidates"]!.AsArray();
        Assert.That(candidates, Has.Count.EqualTo(2));

        await PostAsync(http, $"/v1/characters/{id}:approve", new JsonObject { ["candidateId"] = second["candidate"]!["candidateId"]!.GetValue<string>() });
        var generating = await PostAsync(http, $"/v1/characters/{id}/trainingImages:generate", new JsonObject { ["count"] = 6 });
        Assert.That(generating["state"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_GENERATING_TRAINING"));
        var events = await WatchUntilIdleAsync(http, id);
        Assert.That(events.Count(e => e["trainingSetProgress"] is not null), Is.EqualTo(6));
        Assert.That(events[^1]["stateChanged"]!["to"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_BASE_APPROVED"));

        var images = (await http.GetFromJsonAsync<JsonObject>($"/v1/characters/{id}/trainingImages"))!["trainingImages"]!.AsArray();
        Assert.That(images, Has.Count.EqualTo(6));
        var deleted = await http.DeleteAsync($"/v1/characters/{id}/trainingImages/{images[5]!["trainingImageId"]}");
        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var redone = await PostAsync(http, $"/v1/characters/{id}/trainingImages/{images[0]!["trainingImageId"]}:regenerate",
            new JsonObject { ["prompt"] = "character waving" });
        Assert.That(redone["prompt"]!.GetValue<string>(), Is.EqualTo("character waving"));

        await PostAsync(http, $"/v1/characters/{id}:train", new JsonObject { ["steps"] = 3, ["rank"] = 4 });
        events = await WatchUntilIdleAsync(http, id);
        Assert.That(events.Where(e => e["trainingProgress"] is not null).Select(e => e["trainingProgress"]!["step"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
        var ready = (await http.GetFromJsonAsync<JsonObject>($"/v1/characters/{id}"))!;
        Assert.That(ready["state"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_READY"), ready.ToJsonString());

        for (var seed = 1; seed <= 3; seed++)
        {
            var scene = await PostAsync(http, $"/v1/characters/{id}/scenes",
                new JsonObject { ["prompt"] = "in a forest", ["render"] = new JsonObject { ["seed"] = seed }, ["inlineImages"] = true });
            Assert.That(long.Parse(scene["seed"]!.ToString()), Is.EqualTo(seed));
            Assert.That(Convert.FromBase64String(scene["image"]!["content"]!.GetValue<string>())[1..4], Is.EqualTo("PNG"u8.ToArray()));
        }

        var refused = await http.PostAsync($"/v1/characters/{id}:approve", Json(new JsonObject { ["candidateId"] = "k-1" }));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "FAILED_PRECONDITION is HTTP 400");
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>(), Does.Contain("is in state ready"));
        var missing = await http.GetAsync("/v1/characters/c-missing");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var document = (await http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.That(document, Is.SupersetOf(new[] { "/v1/characters", "/v1/characters/{characterId}:train", "/v1/actors/{actor}/baseImage" }));
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string path, JsonObject body)
    {
        using var response = await http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"POST {path}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>GET …:watch?untilIdle=true read to its end: the snapshot, then every event until no step runs.</summary>
    private static async Task<List<JsonObject>> WatchUntilIdleAsync(HttpClient http, string id)
    {
        var text = await http.GetStringAsync($"/v1/characters/{id}:watch?untilIdle=true");
        var objects = new List<JsonObject>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray) continue;
            objects.Add(JsonNode.Parse(ref reader)!.AsObject());
        }
        Assert.That(objects[0]["snapshot"], Is.Not.Null);
        return objects;
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}
