using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Server.Assets;
using CharacterGen.Nodes.Files;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, failure 4: on a full disk an upload answered 500 with an empty body and a failed SaveImage left a .tmp in
/// output/. Here the data folder is a tmpfs of a few hundred KiB, filled up for real.
/// </summary>
public sealed class DiskFullTests
{
    private const long TmpfsBytes = 1 << 20;

    [Test]
    public async Task An_upload_on_a_full_disk_answers_507_with_a_json_error_and_leaves_no_staging_file()
    {
        using var disk = Tmpfs.Mount(TmpfsBytes);
        await using var server = await ComfyServer.StartAsync(o => o with { DataDir = Path.Combine(disk.Path, "data") });
        disk.Fill(leaveBytes: 16 * 1024);

        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(new byte[256 * 1024]);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", "big.png");
        using var response = await server.Http.PostAsync("/upload/image", form);
        var text = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(507), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.That(error["type"]!.GetValue<string>(), Is.EqualTo("storage_full"));
        Assert.That(error["message"]!.GetValue<string>(), Does.Contain("input folder").And.Not.Contain(disk.Path));
        var staging = Path.Combine(server.Folders.Root, ".upload-staging");
        Assert.That(Directory.Exists(staging) ? Directory.GetFiles(staging) : [], Is.Empty);
        Assert.That(server.Logs.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty, "a full disk is not a server fault");
    }

    [Test]
    public async Task A_submission_the_job_store_cannot_write_on_a_full_disk_answers_507_and_queues_nothing()
    {
        using var disk = Tmpfs.Mount(TmpfsBytes);
        await using var server = await ComfyServer.StartAsync(o => o with { DataDir = Path.Combine(disk.Path, "data") }, builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        disk.Fill(leaveBytes: 0);

        var body = new JsonObject { ["prompt"] = Sd15Jobs.Txt2Img(64, 64), ["client_id"] = "full" };
        using var response = await server.Http.PostAsync("/prompt", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.That((int)response.StatusCode, Is.EqualTo(507), text);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.That(error["type"]!.GetValue<string>(), Is.EqualTo("storage_full"));
        Assert.That(error["message"]!.GetValue<string>(), Does.Contain("job database").And.Not.Contain(disk.Path));
        Assert.That(server.Engine.ListJobs(), Is.Empty, "nothing was acknowledged, so nothing is queued");
    }

    [Test]
    public async Task SaveImage_on_a_full_disk_fails_the_job_naming_the_output_folder_and_leaves_no_temporary_file()
    {
        using var disk = Tmpfs.Mount(TmpfsBytes);
        // Only output/ is on the small disk: the job store (jobs.db in the data folder) must still take the submission.
        string data = Path.Combine(Path.GetTempPath(), "cg-diskfull-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        Directory.CreateSymbolicLink(Path.Combine(data, "output"), disk.Path);
        await using var server = await ComfyServer.StartAsync(o => o with { DataDir = data }, builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server); // the models folder is not on the tmpfs
        disk.Fill(leaveBytes: 4096);

        var id = await server.QueueAsync(Sd15Jobs.Txt2Img(64, 64));
        var job = await server.Engine.WaitAsync(id).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error!.NodeId, Is.EqualTo("9"));
        Assert.That(job.Error.ErrorType, Is.EqualTo(nameof(StorageFullException)));
        Assert.That(job.Error.Message, Does.Contain("output folder"));
        Assert.That(Directory.GetFiles(server.Folders.Output, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != Tmpfs.FillerName),
            Is.Empty, "no .tmp, no partial PNG");
    }

    [Test]
    public async Task An_asset_upload_on_a_full_disk_throws_StorageFullException_for_the_assets_folder_and_removes_its_temp_file()
    {
        using var disk = Tmpfs.Mount(TmpfsBytes);
        var store = new AssetStore(Path.Combine(disk.Path, "assets"), new AssetStoreOptions());
        disk.Fill(leaveBytes: 8 * 1024);

        var upload = store.BeginUpload(AssetMetadata.None);
        var full = await Assert.ThrowsAsync<StorageFullException>(async () =>
        {
            for (var i = 0; i < 64; i++) await upload.WriteAsync(new byte[64 * 1024]);
            await upload.CommitAsync();
        });
        await upload.DisposeAsync();

        Assert.That(full!.Folder, Is.EqualTo("assets"));
        Assert.That(Directory.GetFiles(Path.Combine(disk.Path, "assets", ".tmp")), Is.Empty);
    }
}
