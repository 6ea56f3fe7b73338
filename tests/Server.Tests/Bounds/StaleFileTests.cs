using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, failure 5: a killed multipart upload left its .upload-staging/*.upload file forever (and a killed
/// SaveImage its .tmp). Start-up now removes both, and nothing else.
/// </summary>
public sealed class StaleFileTests
{
    [Test]
    public async Task Start_up_removes_upload_staging_files_and_atomic_write_temporaries_left_by_a_killed_process()
    {
        var data = Path.Combine(Path.GetTempPath(), "cg-stale-" + Guid.NewGuid().ToString("N"));
        var staged = Plant(data, ".upload-staging", "0123456789abcdef.upload");
        var temporary = Plant(data, "output", ".ComfyUI_00001_.png.0123456789abcdef.tmp");
        var nested = Plant(data, Path.Combine("output", "sub"), ".x.png.abc.tmp");
        var inputTemp = Plant(data, "input", ".pic.png.abc.tmp");
        var kept = Plant(data, "output", "ComfyUI_00001_.png");
        var keptInput = Plant(data, "input", "notes.tmp"); // not one of ours: no leading dot

        await using var server = await ComfyServer.StartAsync(o => o with { DataDir = data });

        Assert.That(File.Exists(staged), Is.False);
        Assert.That(File.Exists(temporary), Is.False);
        Assert.That(File.Exists(nested), Is.False);
        Assert.That(File.Exists(inputTemp), Is.False);
        Assert.That(File.Exists(kept), Is.True);
        Assert.That(File.Exists(keptInput), Is.True);
        Assert.That(server.Logs.Entries.Any(e => e.Message.Contains("Removed 4 temporary files")), Is.True);
    }

    private static string Plant(string data, string folder, string name)
    {
        Directory.CreateDirectory(Path.Combine(data, folder));
        var path = Path.Combine(data, folder, name);
        File.WriteAllBytes(path, [1, 2, 3]);
        return path;
    }
}
