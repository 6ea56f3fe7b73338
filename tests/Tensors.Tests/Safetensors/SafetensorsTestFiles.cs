using System.Buffers.Binary;
using System.Text;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>A temp directory per test, with helpers to craft raw (possibly malformed) safetensors files.</summary>
public abstract class SafetensorsTestFiles
{
    protected string Directory { get; private set; } = "";

    [SetUp]
    public void CreateDirectory()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"cg-safetensors-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    [TearDown]
    public void DeleteDirectory() => System.IO.Directory.Delete(Directory, recursive: true);

    protected string PathOf(string fileName) => Path.Combine(Directory, fileName);

    protected string WriteBytes(string fileName, byte[] bytes)
    {
        var path = PathOf(fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>An 8-byte little-endian length, the header bytes as given, then <paramref name="dataBytes"/> bytes.</summary>
    protected static byte[] Raw(byte[] header, int dataBytes = 0, ulong? declaredLength = null)
    {
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        for (int i = 0; i < dataBytes; i++)
            file[8 + header.Length + i] = (byte)(i * 7 + 1);
        return file;
    }

    protected static byte[] Raw(string headerJson, int dataBytes = 0, ulong? declaredLength = null) =>
        Raw(Encoding.UTF8.GetBytes(headerJson), dataBytes, declaredLength);

    /// <summary>
    /// Asserts that both <see cref="SafetensorsFile.Open"/> and <see cref="SafetensorsHeader.Parse"/>
    /// refuse <paramref name="file"/> for <paramref name="reason"/>, with a one-line message free of paths.
    /// </summary>
    protected SafetensorsFormatException AssertRefused(
        byte[] file, SafetensorsFormatError reason, SafetensorsLimits? limits = null, string fileName = "model.safetensors")
    {
        var path = WriteBytes(fileName, file);
        var fromFile = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path, limits).Dispose())!;
        Assert.That(fromFile.Reason, Is.EqualTo(reason), fromFile.Message);
        Assert.That(fromFile.Message, Does.Not.Contain(Directory).And.Not.Contain("\n"));

        var fromBytes = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(file, limits))!;
        Assert.That(fromBytes.Reason, Is.EqualTo(reason), fromBytes.Message);
        Assert.That(fromBytes.Message, Is.EqualTo(fromFile.Message));
        return fromFile;
    }
}
