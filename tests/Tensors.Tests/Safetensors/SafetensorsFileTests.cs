using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>Behaviour of an open file when the disk changes under it (scenario C10) and after disposal.</summary>
public sealed class SafetensorsFileTests : SafetensorsTestFiles
{
    private string TwoTensorFile()
    {
        var path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path,
        [
            new SafetensorsTensorData("a", SafetensorsDType.F32, [256], new byte[1024]),
            new SafetensorsTensorData("b", SafetensorsDType.F32, [256], Enumerable.Repeat((byte)7, 1024).ToArray()),
        ]);
        return path;
    }

    [Test]
    public void TruncationAfterOpenIsAnExceptionNotACrash()
    {
        var path = TwoTensorFile();
        using var file = SafetensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            stream.SetLength(file.Header.DataStart + 1500);

        Assert.That(file.ReadBytes("a"), Has.Length.EqualTo(1024), "bytes before the cut are still readable");
        var e = Assert.Throws<SafetensorsFormatException>(() => file.ReadBytes("b"))!;
        Assert.That(e.Reason, Is.EqualTo(SafetensorsFormatError.TruncatedData));
        Assert.That(e.Message, Does.Contain("'b'").And.Not.Contain(Directory));
    }

    [Test]
    public void ReplacingTheFileByRenameKeepsTheOpenFileReadable()
    {
        var path = TwoTensorFile();
        using var file = SafetensorsFile.Open(path);
        SafetensorsWriter.Write(path, [new SafetensorsTensorData("other", SafetensorsDType.U8, [1], new byte[1])]);

        Assert.That(file.ReadBytes("b"), Is.All.EqualTo(7));
    }

    [Test]
    public void ReadingAfterDisposeThrows()
    {
        var file = SafetensorsFile.Open(TwoTensorFile());
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadBytes("a"));
    }

    [Test]
    public void OpenKeepsThePathAndExposesTheHeader()
    {
        var path = TwoTensorFile();
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Path, Is.EqualTo(path));
        Assert.That(file.TotalDataBytes, Is.EqualTo(2048));
        Assert.That(file.HeaderBytes, Is.EqualTo(file.Header.DataStart - 8));
        Assert.That(file.Entries.Select(e => e.Name), Is.EqualTo(new[] { "a", "b" }));
    }
}
