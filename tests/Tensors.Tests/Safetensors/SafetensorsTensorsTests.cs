using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>Tensors saved and loaded through safetensors, in every dtype the tensor layer holds.</summary>
public sealed class SafetensorsTensorsTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "cg-st-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [TestCase(DType.Float32)]
    [TestCase(DType.Float16)]
    [TestCase(DType.BFloat16)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int64)]
    [TestCase(DType.Int32)]
    [TestCase(DType.Int16)]
    [TestCase(DType.Int8)]
    [TestCase(DType.UInt8)]
    [TestCase(DType.Bool)]
    public void RoundTripKeepsDTypeShapeAndValues(DType dtype)
    {
        using var scope = Torch.NewScope();
        Tensor t = (Torch.Arange(-6, 6) * 1.5).Reshape(3, 4).To(dtype);
        string path = Path.Combine(_dir, "t.safetensors");
        SafetensorsTensors.Save(path, [new("w", t)], new Dictionary<string, string> { ["family"] = "test" });
        using var file = SafetensorsFile.Open(path);
        Tensor back = file.LoadTensor("w");
        Assert.That(back.DType, Is.EqualTo(dtype));
        Assert.That(back.Shape, Is.EqualTo(new long[] { 3, 4 }));
        Assert.That(back.ToBytes(), Is.EqualTo(t.ToBytes()));
        Assert.That(file.Metadata["family"], Is.EqualTo("test"));
    }

    [Test]
    public void LoadConvertsDTypeAndFloat8WidensToFloat32()
    {
        using var scope = Torch.NewScope();
        string path = Path.Combine(_dir, "f8.safetensors");
        SafetensorsWriter.Write(path, [new SafetensorsTensorData("q", SafetensorsDType.F8E4M3, [3], new byte[] { 0x38, 0x7E, 0xB8 })]);
        using var file = SafetensorsFile.Open(path);
        Tensor q = file.LoadTensor("q");
        Assert.That(q.DType, Is.EqualTo(DType.Float32));
        Assert.That(q.ToArray<float>(), Is.EqualTo(new[] { 1f, 448f, -1f }));
        Assert.That(file.LoadTensor("q", DType.Float16).DType, Is.EqualTo(DType.Float16));
    }

    [Test]
    public void UnsignedWideDTypesAreRefusedWithTheTensorName()
    {
        string path = Path.Combine(_dir, "u32.safetensors");
        SafetensorsWriter.Write(path, [new SafetensorsTensorData("ids", SafetensorsDType.U32, [1], new byte[4])]);
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<NotSupportedException>(() => file.LoadTensor("ids"));
        Assert.That(e!.Message, Does.Contain("'ids'").And.Contain("U32"));
    }
}
