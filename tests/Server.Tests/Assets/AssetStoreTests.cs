using System.Security.Cryptography;
using CharacterGen.Server.Assets;

namespace CharacterGen.Server.Tests.Assets;

public sealed class AssetStoreTests
{
    private DirectoryInfo _root = null!;

    [SetUp]
    public void CreateRoot() => _root = Directory.CreateTempSubdirectory("cg-assets-");

    [TearDown]
    public void DeleteRoot() => _root.Delete(recursive: true);

    [Test]
    public async Task Saved_bytes_live_under_their_sha256()
    {
        var store = Store();
        var bytes = RandomNumberGenerator.GetBytes(100_000);

        var result = await store.SaveAsync(new MemoryStream(bytes), new AssetMetadata("face.png", "image/png"));

        var id = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.That(result.Asset.Id.Value, Is.EqualTo(id));
        Assert.That(result.AlreadyStored, Is.False);
        Assert.That(File.ReadAllBytes(Path.Combine(store.Root, id[..2], id)), Is.EqualTo(bytes));
        Assert.That(result.Asset.SizeBytes, Is.EqualTo(bytes.Length));
        Assert.That(result.Asset.Metadata, Is.EqualTo(new AssetMetadata("face.png", "image/png")));
    }

    [Test]
    public async Task Same_bytes_twice_are_stored_once_and_keep_the_first_metadata()
    {
        var store = Store();
        var bytes = RandomNumberGenerator.GetBytes(1000);

        var first = await store.SaveAsync(new MemoryStream(bytes), new AssetMetadata("first.png", "image/png"));
        var second = await store.SaveAsync(new MemoryStream(bytes), new AssetMetadata("second.jpg", "image/jpeg"));

        Assert.That(second.Asset.Id, Is.EqualTo(first.Asset.Id));
        Assert.That(second.AlreadyStored, Is.True);
        Assert.That(second.Asset.Metadata.FileName, Is.EqualTo("first.png"));
        Assert.That(Directory.GetFiles(Path.Combine(store.Root, first.Asset.Id.Shard)), Has.Length.EqualTo(2)); // bytes + metadata
    }

    [Test]
    public async Task Concurrent_uploads_of_the_same_bytes_agree()
    {
        var store = Store();
        var bytes = RandomNumberGenerator.GetBytes(50_000);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => store.SaveAsync(new MemoryStream(bytes), AssetMetadata.None))));

        Assert.That(results.Select(r => r.Asset.Id).Distinct().Count(), Is.EqualTo(1));
        Assert.That(results.Count(r => !r.AlreadyStored), Is.EqualTo(1));
        Assert.That(TempFiles(store), Is.Empty);
    }

    [Test]
    public async Task Upload_over_the_limit_fails_and_leaves_no_file()
    {
        var store = Store(maxUploadBytes: 1000);

        await Assert.ThrowsAsync<AssetTooLargeException>(() => store.SaveAsync(new MemoryStream(new byte[1001]), AssetMetadata.None));

        Assert.That(TempFiles(store), Is.Empty);
        Assert.That(Directory.GetDirectories(store.Root).Select(Path.GetFileName), Is.EqualTo(new[] { ".tmp" }));
        var exact = await store.SaveAsync(new MemoryStream(new byte[1000]), AssetMetadata.None);
        Assert.That(exact.Asset.SizeBytes, Is.EqualTo(1000));
    }

    [Test]
    public async Task Abandoned_upload_deletes_its_temp_file()
    {
        var store = Store();
        await using (var upload = store.BeginUpload(AssetMetadata.None))
        {
            await upload.WriteAsync(new byte[10]);
            Assert.That(TempFiles(store), Has.Length.EqualTo(1));
        }

        Assert.That(TempFiles(store), Is.Empty);
    }

    [Test]
    public void Stale_temp_files_from_a_dead_process_are_removed()
    {
        var store = Store();
        File.WriteAllText(Path.Combine(store.Root, ".tmp", "dead.upload"), "partial");

        Assert.That(store.DeleteStaleUploads(), Is.EqualTo(1));
        Assert.That(TempFiles(store), Is.Empty);
    }

    [Test]
    public async Task Empty_file_is_a_valid_asset()
    {
        var result = await Store().SaveAsync(new MemoryStream(), AssetMetadata.None);

        Assert.That(result.Asset.Id.Value, Is.EqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        Assert.That(result.Asset.SizeBytes, Is.Zero);
    }

    [Test]
    public void Unknown_asset_is_not_found()
    {
        var store = Store();
        AssetId.TryParse(new string('a', 64), out var id);

        Assert.That(store.Find(id), Is.Null);
        Assert.That(store.OpenRead(id), Is.Null);
    }

    [Test]
    public async Task Asset_without_metadata_file_still_reads()
    {
        var store = Store();
        var saved = await store.SaveAsync(new MemoryStream([1, 2, 3]), new AssetMetadata("x.bin", "application/x-test"));
        File.Delete(Path.Combine(store.Root, saved.Asset.Id.Shard, saved.Asset.Id.Value + ".json"));

        var found = store.Find(saved.Asset.Id)!;

        Assert.That(found.SizeBytes, Is.EqualTo(3));
        Assert.That(found.Metadata, Is.EqualTo(AssetMetadata.None));
    }

    [TestCase("")]
    [TestCase("../../etc/passwd")]
    [TestCase("/etc/passwd")]
    [TestCase("..")]
    [TestCase("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    [TestCase("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")]
    [TestCase("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [TestCase("0123456789abcdef0123456789abcdef0123456789abcdef012345678/../../")]
    public void Ids_must_be_64_hex_digits(string text) =>
        Assert.That(AssetId.TryParse(text, out _), Is.False);

    [Test]
    public void Ids_are_normalised_to_lowercase()
    {
        Assert.That(AssetId.TryParse(new string('A', 64), out var id), Is.True);
        Assert.That(id.Value, Is.EqualTo(new string('a', 64)));
    }

    [TestCase("../../etc/passwd", AssetMetadataField.FileName)]
    [TestCase("..\\..\\win.ini", AssetMetadataField.FileName)]
    [TestCase("a\0b.png", AssetMetadataField.FileName)]
    [TestCase("..", AssetMetadataField.FileName)]
    public void Path_like_file_names_are_refused(string name, AssetMetadataField field)
    {
        AssetMetadata.Create(name, "", out var problems);

        Assert.That(problems.Select(p => p.Field), Is.EqualTo(new[] { field }));
    }

    [Test]
    public void Overlong_file_names_and_bad_content_types_are_refused()
    {
        AssetMetadata.Create(new string('x', 256), "not a mime type", out var problems);

        Assert.That(problems.Select(p => p.Field), Is.EqualTo(new[] { AssetMetadataField.FileName, AssetMetadataField.ContentType }));
    }

    [Test]
    public void Empty_content_type_means_octet_stream()
    {
        var metadata = AssetMetadata.Create("photo.png", "", out var problems);

        Assert.That(problems, Is.Empty);
        Assert.That(metadata.ContentType, Is.EqualTo("application/octet-stream"));
    }

    private AssetStore Store(long maxUploadBytes = AssetStoreOptions.DefaultMaxUploadBytes) =>
        new(Path.Combine(_root.FullName, "assets"), new AssetStoreOptions { MaxUploadBytes = maxUploadBytes });

    private static string[] TempFiles(AssetStore store) => Directory.GetFiles(Path.Combine(store.Root, ".tmp"));
}
