using CharacterGen.Server.ComfyApi;
using CharacterGen.Server.Hosting;

namespace CharacterGen.Server.Tests.ComfyApi;

public sealed class OptionsTests
{
    [Test]
    public void Comfy_api_options_bind_from_configuration_with_named_defaults()
    {
        var defaults = ServerConfiguration.Load(null, new Dictionary<string, string?>());
        Assert.That(defaults.ComfyApi.MaxUploadBytes, Is.EqualTo(ComfyApiOptions.DefaultMaxUploadBytes));

        var options = ServerConfiguration.Load(null, new Dictionary<string, string?>
        {
            ["ComfyApi:MaxUploadBytes"] = "5000",
            ["ComfyApi:SocketQueueFrames"] = "64",
            ["ComfyApi:AllowedHosts:0"] = "comfy.lan",
        });

        Assert.That(options.ComfyApi.MaxUploadBytes, Is.EqualTo(5000));
        Assert.That(options.ComfyApi.SocketQueueFrames, Is.EqualTo(64));
        Assert.That(options.ComfyApi.AllowedHosts, Is.EqualTo(new[] { "comfy.lan" }));
    }

    [TestCase("ComfyApi:MaxUploadBytes", "0")]
    [TestCase("ComfyApi:SocketQueueFrames", "1")]
    [TestCase("ComfyApi:KeepAliveSeconds", "0")]
    [TestCase("ComfyApi:SendTimeoutSeconds", "99999")]
    [TestCase("ComfyApi:AllowedHosts:0", "http://x/")]
    public void Invalid_values_stop_the_server_from_starting(string key, string value)
    {
        var error = Assert.Throws<ServerOptionsException>(() => ServerConfiguration.Load(null, new Dictionary<string, string?> { [key] = value }));
        Assert.That(error!.Errors, Has.Some.StartsWith(key.Split(':')[0] + ":" + key.Split(':')[1]));
    }
}
