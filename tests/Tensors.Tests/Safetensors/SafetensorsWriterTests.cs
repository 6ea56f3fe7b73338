using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>The writer refuses bad input before touching the disk and replaces the target atomically (scenario C15).</summary>
public sealed class SafetensorsWriterTests : SafetensorsTestFiles
{
    private static SafetensorsTensorData F32(string name, long[] shape, int dataBytes) =>
        new(name, SafetensorsDType.F32, shape, new byte[dataBytes]);

    private string ExistingTarget(out byte[] original)
    {
        var path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [F32("old", [2], 8)], new Dictionary<string, string> { ["v"] = "1" });
        original = File.ReadAllBytes(path);
        return path;
    }

    private void AssertUntouched(string path, byte[] original)
    {
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(original), "existing target changed");
        Assert.That(System.IO.Directory.GetFiles(Directory), Is.EqualTo(new[] { path }), "temp file left behind");
    }

    [Test]
    public void DataLengthNotMatchingTheShapeLeavesTheTargetUntouched()
    {
        var path = ExistingTarget(out var original);
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [F32("ok", [1], 4), F32("w", [2, 3], 20)]))!;
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("20 data bytes").And.Contain("needs 24"));
        AssertUntouched(path, original);
    }

    [TestCase("dup", "duplicate tensor name 'dup'")]
    [TestCase("__metadata__", "reserved")]
    public void RefusedNamesLeaveTheTargetUntouched(string secondName, string problem)
    {
        var path = ExistingTarget(out var original);
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [F32("dup", [1], 4), F32(secondName, [1], 4)]))!;
        Assert.That(e.Message, Does.Contain(problem));
        AssertUntouched(path, original);
    }

    [TestCase(new long[] { 2, -1 }, "negative dimension")]
    [TestCase(new long[] { 1L << 62, 1L << 62 }, "overflows")]
    public void InvalidShapesAreRefused(long[] shape, string problem)
    {
        var path = ExistingTarget(out var original);
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [F32("w", shape, 0)]))!;
        Assert.That(e.Message, Does.Contain(problem));
        AssertUntouched(path, original);
    }

    [Test]
    public void ACallbackFailingHalfwayLeavesTheTargetUntouched()
    {
        var path = ExistingTarget(out var original);
        SafetensorsTensorInfo[] tensors = [new("a", SafetensorsDType.U8, [4]), new("b", SafetensorsDType.U8, [4])];
        Assert.Throws<IOException>(() => SafetensorsWriter.Write(path, tensors, (info, stream) =>
        {
            stream.Write(new byte[4]);
            if (info.Name == "b")
                throw new IOException("simulated disk full");
        }));
        AssertUntouched(path, original);
    }

    [TestCase(3)]
    [TestCase(5)]
    public void ACallbackWritingTheWrongByteCountIsRefused(int written)
    {
        var path = ExistingTarget(out var original);
        var e = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(
            path, [new SafetensorsTensorInfo("a", SafetensorsDType.U8, [4])], (_, stream) => stream.Write(new byte[written])))!;
        Assert.That(e.Message, Does.Contain("'a'"));
        AssertUntouched(path, original);
    }

    [Test]
    public void ASuccessfulWriteReplacesTheTargetAndLeavesNoTempFile()
    {
        var path = ExistingTarget(out _);
        SafetensorsWriter.Write(path, [F32("new", [3], 12)]);

        using (var file = SafetensorsFile.Open(path))
        {
            Assert.That(file.Entries.Single().Name, Is.EqualTo("new"));
            Assert.That(file.Metadata, Is.Empty);
        }
        Assert.That(System.IO.Directory.GetFiles(Directory), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void AMissingDirectoryFailsWithoutLeavingFiles()
    {
        var path = Path.Combine(Directory, "absent", "model.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => SafetensorsWriter.Write(path, [F32("w", [1], 4)]));
        Assert.That(System.IO.Directory.GetFileSystemEntries(Directory), Is.Empty);
    }

    [Test]
    public void AnEmptyTensorListWritesAValidFile()
    {
        var path = PathOf("empty.safetensors");
        SafetensorsWriter.Write(path, [], new Dictionary<string, string> { ["note"] = "no tensors" });
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Entries, Is.Empty);
        Assert.That(file.Metadata["note"], Is.EqualTo("no tensors"));
    }
}
