using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Tests.Files;

/// <summary>All-or-nothing writes: no temporary survives a failure, and out-of-space is recognised as such.</summary>
public sealed class AtomicFileTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "cg-atomic-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void A_write_lands_whole_and_refuses_to_overwrite_unless_asked()
    {
        var target = Path.Combine(_folder, "a.png");
        Assert.That(AtomicFile.Write(target, [1, 2, 3], "output"), Is.True);
        Assert.That(AtomicFile.Write(target, [4], "output"), Is.False);
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(AtomicFile.Write(target, [4], "output", overwrite: true), Is.True);
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 4 }));
        Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { target }));
    }

    [Test]
    public void A_failed_rename_removes_the_temporary()
    {
        var target = Path.Combine(_folder, "taken");
        Directory.CreateDirectory(target); // a folder where the file should go: the rename fails

        Assert.Catch<Exception>(() => AtomicFile.Write(target, new byte[1000], "output", overwrite: true));
        Assert.That(Directory.GetFiles(_folder), Is.Empty);
    }

    [Test]
    public void Out_of_space_errors_are_recognised_by_errno_and_named_by_folder_role()
    {
        Assert.That(StorageFullException.IsDiskFull(new IOException("No space left on device", 28)), Is.True);
        Assert.That(StorageFullException.IsDiskFull(new IOException("Disk quota exceeded", 122)), Is.True);
        Assert.That(StorageFullException.IsDiskFull(new IOException("Permission denied", 13)), Is.False);
        var full = StorageFullException.From(new IOException("No space left on device", 28), "output");
        Assert.That(full!.Folder, Is.EqualTo("output"));
        Assert.That(full.Message, Does.Contain("output folder").And.Not.Contain("/"));
    }

    [Test]
    public void Stale_temporaries_are_removed_and_nothing_else()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "sub"));
        File.WriteAllBytes(Path.Combine(_folder, ".a.png.123.tmp"), [1]);
        File.WriteAllBytes(Path.Combine(_folder, "sub", ".b.png.456.tmp"), [1]);
        File.WriteAllBytes(Path.Combine(_folder, "keep.png"), [1]);
        File.WriteAllBytes(Path.Combine(_folder, "notes.tmp"), [1]);

        Assert.That(AtomicFile.DeleteStaleTemporaries(_folder), Is.EqualTo(2));
        Assert.That(Directory.GetFiles(_folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "keep.png", "notes.tmp" }));
    }
}
