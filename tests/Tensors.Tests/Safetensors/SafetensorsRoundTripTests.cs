using System.Text;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

public sealed class SafetensorsRoundTripTests : SafetensorsTestFiles
{
    private static IEnumerable<SafetensorsDType> AllDTypes => SafetensorsDTypes.All;

    private static byte[] Pattern(long length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static SafetensorsTensorData Tensor(string name, SafetensorsDType dtype, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        return new SafetensorsTensorData(name, dtype, shape, Pattern(count * dtype.ElementSize(), name.Sum(c => c)));
    }

    [TestCaseSource(nameof(AllDTypes))]
    public void EveryDTypeRoundTrips(SafetensorsDType dtype)
    {
        var path = PathOf("model.safetensors");
        var tensor = Tensor("layer.weight", dtype, 2, 3, 5);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["dtype"] = dtype.ToHeaderName() };

        SafetensorsWriter.Write(path, [tensor], metadata);

        using var file = SafetensorsFile.Open(path);
        var entry = file["layer.weight"];
        Assert.That(entry.DType, Is.EqualTo(dtype));
        Assert.That(entry.Shape, Is.EqualTo(new long[] { 2, 3, 5 }));
        Assert.That(entry.ElementCount, Is.EqualTo(30));
        Assert.That(entry.ByteLength, Is.EqualTo(30 * dtype.ElementSize()));
        Assert.That(file.ReadBytes("layer.weight"), Is.EqualTo(tensor.Data.ToArray()));
        Assert.That(file.Metadata, Is.EquivalentTo(metadata));
    }

    [TestCaseSource(nameof(AllDTypes))]
    public void DTypeHeaderNamesParseBack(SafetensorsDType dtype)
    {
        Assert.That(SafetensorsDTypes.Parse(dtype.ToHeaderName()), Is.EqualTo(dtype));
    }

    [Test]
    public void HeaderNamesAreTheReferenceSpellings()
    {
        Assert.That(SafetensorsDTypes.All.Select(d => d.ToHeaderName()), Is.EqualTo(new[]
        {
            "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "BF16", "F32", "F64", "F8_E4M3", "F8_E5M2",
        }));
        Assert.That(SafetensorsDTypes.TryParse("f32", out _), Is.False, "dtype names are case-sensitive");
    }

    [Test]
    public void SeveralTensorsKeepOrderOffsetsAndAlignment()
    {
        var path = PathOf("model.safetensors");
        SafetensorsTensorData[] tensors =
        [
            Tensor("b.bias", SafetensorsDType.F16, 3),
            Tensor("a.weight", SafetensorsDType.F32, 4, 3),
            Tensor("empty", SafetensorsDType.F32, 0, 4),
            Tensor("scalar", SafetensorsDType.I64),
            Tensor("mask", SafetensorsDType.Bool, 7),
        ];

        SafetensorsWriter.Write(path, tensors);

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Entries.Select(e => e.Name), Is.EqualTo(tensors.Select(t => t.Name)));
        Assert.That(file.Entries.Select(e => e.DataOffset), Is.EqualTo(new long[] { 0, 6, 54, 54, 62 }));
        Assert.That(file.TotalDataBytes, Is.EqualTo(69));
        Assert.That((8 + file.HeaderBytes) % 8, Is.Zero, "data buffer starts 8-byte aligned");
        Assert.That(new FileInfo(path).Length, Is.EqualTo(8 + file.HeaderBytes + 69));
        Assert.That(file["empty"].ElementCount, Is.Zero);
        Assert.That(file.ReadBytes("empty"), Is.Empty);
        Assert.That(file["scalar"].Shape, Is.Empty);
        Assert.That(file["scalar"].ElementCount, Is.EqualTo(1));
        foreach (var tensor in tensors)
            Assert.That(file.ReadBytes(tensor.Name), Is.EqualTo(tensor.Data.ToArray()), tensor.Name);
        Assert.That(file.Contains("a.weight") && !file.Contains("missing"));
        Assert.That(file.TryGet("missing", out _), Is.False);
        Assert.Throws<KeyNotFoundException>(() => _ = file["missing"]);
        Assert.That(file.Metadata, Is.Empty);
    }

    [Test]
    public void HeaderIsPaddedWithSpaces()
    {
        var path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [Tensor("x", SafetensorsDType.U8, 1)]);

        var bytes = File.ReadAllBytes(path);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes));
        Assert.That(header, Does.StartWith("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}"));
        Assert.That(header.TrimEnd(' '), Does.EndWith("}"));
        Assert.That((8 + header.Length) % 8, Is.Zero);
    }

    [Test]
    public void NamesAndMetadataWithEscapesAndNonAsciiRoundTrip()
    {
        var path = PathOf("model.safetensors");
        var metadata = new Dictionary<string, string> { ["config"] = "{\"a\": [1, \"two\"]}\n\ttab", ["名前"] = "λ ü 🎨" };
        SafetensorsWriter.Write(path, [Tensor("blocks.0.\"quoted\"\\名", SafetensorsDType.F32, 2)], metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Entries.Single().Name, Is.EqualTo("blocks.0.\"quoted\"\\名"));
        Assert.That(file.Metadata, Is.EquivalentTo(metadata));
    }

    [Test]
    public void ReadIntoAndReadSliceReadTheRightBytes()
    {
        var path = PathOf("model.safetensors");
        var first = Tensor("first", SafetensorsDType.F32, 10);
        var second = Tensor("second", SafetensorsDType.F64, 4, 4);
        SafetensorsWriter.Write(path, [first, second]);

        using var file = SafetensorsFile.Open(path);
        var whole = new byte[128];
        file.ReadInto("second", whole);
        Assert.That(whole, Is.EqualTo(second.Data.ToArray()));

        var slice = new byte[16];
        file.ReadSlice("second", 40, slice);
        Assert.That(slice, Is.EqualTo(second.Data.Slice(40, 16).ToArray()));

        Assert.Throws<ArgumentException>(() => file.ReadInto("second", new byte[127]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadSlice("second", 120, new byte[16]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadSlice("second", -1, new byte[1]));
    }

    [Test]
    public void StreamingWriterWritesTheSameFileAsTheInMemoryOne()
    {
        SafetensorsTensorData[] tensors = [Tensor("a", SafetensorsDType.BF16, 3, 3), Tensor("b", SafetensorsDType.I32, 5)];
        var metadata = new Dictionary<string, string> { ["k"] = "v" };
        var inMemory = PathOf("memory.safetensors");
        var streamed = PathOf("streamed.safetensors");

        SafetensorsWriter.Write(inMemory, tensors, metadata);
        var data = tensors.ToDictionary(t => t.Name, t => t.Data);
        SafetensorsWriter.Write(streamed, tensors.Select(t => t.Info), (info, stream) =>
        {
            // In two pieces, as a chunked producer would.
            var bytes = data[info.Name].Span;
            stream.Write(bytes[..1]);
            stream.Write(bytes[1..]);
        }, metadata);

        Assert.That(File.ReadAllBytes(streamed), Is.EqualTo(File.ReadAllBytes(inMemory)));
    }

    [Test]
    public void HeaderParsesFromBytesAndFromAStream()
    {
        var path = PathOf("model.safetensors");
        SafetensorsWriter.Write(path, [Tensor("a", SafetensorsDType.F16, 2, 2)], new Dictionary<string, string> { ["m"] = "1" });
        var bytes = File.ReadAllBytes(path);

        var fromBytes = SafetensorsHeader.Parse(bytes);
        using var stream = new MemoryStream(bytes);
        var fromStream = SafetensorsHeader.Read(stream);

        foreach (var header in new[] { fromBytes, fromStream })
        {
            Assert.That(header.Entries.Single().ToString(), Is.EqualTo("a: F16[2, 2] @ 0+8"));
            Assert.That(header.Metadata["m"], Is.EqualTo("1"));
            Assert.That(header.DataStart + header.TotalDataBytes, Is.EqualTo(bytes.Length));
        }
        Assert.That(stream.Position, Is.EqualTo(fromStream.DataStart));
    }

    [Test]
    public void HandWrittenFilesWithNullMetadataUnknownFieldsAndNoTensorsAreAccepted()
    {
        var empty = SafetensorsHeader.Parse(Raw("{}"));
        Assert.That(empty.Entries, Is.Empty);

        var header = SafetensorsHeader.Parse(Raw(
            """{"__metadata__":null,"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"extra":{"nested":[1,{"x":2}]}}}    """, 2));
        Assert.That(header.Entries.Single().Name, Is.EqualTo("t"));
        Assert.That(header.Metadata, Is.Empty);
    }

    [Test]
    public void EntriesAreOrderedByDataOffsetNotHeaderOrder()
    {
        var header = SafetensorsHeader.Parse(Raw(
            """{"late":{"dtype":"U8","shape":[3],"data_offsets":[2,5]},"early":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}""", 5));
        Assert.That(header.Entries.Select(e => e.Name), Is.EqualTo(new[] { "early", "late" }));
    }

    [Test]
    public void ASafetensorsFileWhoseLengthBytesLookLikeAPickleIsStillRead()
    {
        // Header length 640 is stored as 80 02 00 ..., the pickle PROTO 2 opcode.
        var json = """{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""";
        var file = Raw(json.PadRight(640), 1);
        Assert.That(file[..2], Is.EqualTo(new byte[] { 0x80, 0x02 }));

        using var opened = SafetensorsFile.Open(WriteBytes("model.safetensors", file));
        Assert.That(opened.Entries.Single().Name, Is.EqualTo("t"));
    }
}
