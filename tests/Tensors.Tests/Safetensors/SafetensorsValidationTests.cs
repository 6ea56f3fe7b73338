using System.Text;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>Each malformed file of reliability.md §5.C is refused with the right reason and a message naming the problem.</summary>
public sealed class SafetensorsValidationTests : SafetensorsTestFiles
{
    private static string Tensor(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Test]
    public void EmptyFile()
    {
        var e = AssertRefused([], SafetensorsFormatError.FileTooSmall);
        Assert.That(e.Message, Does.Contain("empty"));
    }

    [Test]
    public void FileShorterThanTheLength()
    {
        var e = AssertRefused([1, 0, 0, 0, 0], SafetensorsFormatError.FileTooSmall);
        Assert.That(e.Message, Does.Contain("5 bytes"));
    }

    [Test]
    public void HeaderLengthBeyondTheFile()
    {
        var e = AssertRefused(Raw("{}", declaredLength: 1000), SafetensorsFormatError.HeaderLengthBeyondFile);
        Assert.That(e.Message, Does.Contain("1000").And.Contain("past the end"));
    }

    [TestCase(200_000_000UL)]
    [TestCase(1UL << 63)]
    [TestCase(ulong.MaxValue)]
    public void HugeHeaderClaimInASmallFileIsRefusedWithoutAllocating(ulong claim)
    {
        var e = AssertRefused(Raw("{}", declaredLength: claim), SafetensorsFormatError.HeaderTooLarge);
        Assert.That(e.Message, Does.Contain(claim.ToString()).And.Contain("100000000"));
    }

    [Test]
    public void HeaderAboveALoweredCap()
    {
        var json = "{" + Tensor("t", "U8", "[1]", 0, 1) + "}";
        var limits = new SafetensorsLimits { MaxHeaderBytes = 16 };
        AssertRefused(Raw(json, 1), SafetensorsFormatError.HeaderTooLarge, limits);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SafetensorsLimits { MaxHeaderBytes = 100_000_001 });
    }

    [Test]
    public void TooManyTensors()
    {
        var json = "{" + string.Join(",", Enumerable.Range(0, 5).Select(i => Tensor($"t{i}", "U8", "[1]", i, i + 1))) + "}";
        var e = AssertRefused(Raw(json, 5), SafetensorsFormatError.TooManyTensors, new SafetensorsLimits { MaxTensorCount = 4 });
        Assert.That(e.Message, Does.Contain("more than 4 tensors"));
        Assert.That(SafetensorsHeader.Parse(Raw(json, 5), new SafetensorsLimits { MaxTensorCount = 5 }).Entries, Has.Count.EqualTo(5));
    }

    [Test]
    public void DefaultTensorCountCapRefusesHeaderBloat()
    {
        // Scenario C3: 100k tiny entries inside the byte cap.
        var json = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++)
            json.Append(i == 0 ? "" : ",").Append(Tensor($"t{i}", "U8", "[0]", 0, 0));
        AssertRefused(Raw(json.Append('}').ToString()), SafetensorsFormatError.TooManyTensors);
    }

    [Test]
    public void HeaderNotUtf8()
    {
        var header = Encoding.UTF8.GetBytes("{\"t\xff\":{}}");
        header[3] = 0xFF; // a byte that never occurs in UTF-8
        var e = AssertRefused(Raw(header), SafetensorsFormatError.HeaderNotUtf8);
        Assert.That(e.Message, Does.Contain("UTF-8"));
    }

    [TestCase("{\"t\": ")]
    [TestCase("{} trailing")]
    [TestCase("{\"__metadata__\":{},}")]
    [TestCase("{/* comment */}")]
    [TestCase("{\"\\uD800\":{}}")]
    public void HeaderNotJson(string header)
    {
        var e = AssertRefused(Raw(header), SafetensorsFormatError.InvalidJson);
        Assert.That(e.Message, Does.Contain("not valid JSON"));
    }

    [TestCase("[1, 2]")]
    [TestCase(" {}")]
    [TestCase("\"text\"")]
    [TestCase("")]
    public void HeaderNotStartingWithABrace(string header)
    {
        AssertRefused(Raw(header), SafetensorsFormatError.InvalidHeaderStart);
    }

    [Test]
    public void DuplicateTensorNames()
    {
        var json = "{" + Tensor("w", "U8", "[1]", 0, 1) + "," + Tensor("w", "U8", "[1]", 1, 2) + "}";
        var e = AssertRefused(Raw(json, 2), SafetensorsFormatError.DuplicateKey);
        Assert.That(e.Message, Does.Contain("duplicate tensor name 'w'"));
        Assert.That(e.TensorName, Is.EqualTo("w"));
    }

    [TestCase("""{"t":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", "'dtype'")]
    [TestCase("""{"__metadata__":{"a":"1","a":"2"},"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", "'a'")]
    [TestCase("""{"__metadata__":{},"__metadata__":{},"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", "'__metadata__'")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[{"k":1,"k":2}]}}""", "'k'")]
    public void DuplicateKeysAnywhere(string json, string key)
    {
        var e = AssertRefused(Raw(json, 1), SafetensorsFormatError.DuplicateKey);
        Assert.That(e.Message, Does.Contain($"duplicate key {key}"));
    }

    [TestCase("""{"__metadata__":{"a":1}}""")]
    [TestCase("""{"__metadata__":{"a":{"b":"c"}}}""")]
    [TestCase("""{"__metadata__":["a"]}""")]
    [TestCase("""{"__metadata__":"text"}""")]
    public void MetadataNotStringToString(string json)
    {
        var e = AssertRefused(Raw(json), SafetensorsFormatError.InvalidMetadata);
        Assert.That(e.Message, Does.Contain("__metadata__"));
    }

    [TestCase("""{"t":{"shape":[1],"data_offsets":[0,1]}}""", "missing 'dtype'")]
    [TestCase("""{"t":{"dtype":"U8","data_offsets":[0,1]}}""", "missing 'shape'")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1]}}""", "missing 'data_offsets'")]
    [TestCase("""{"t":{"dtype":8,"shape":[1],"data_offsets":[0,1]}}""", "'dtype' must be a string")]
    [TestCase("""{"t":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}""", "'shape' must be an array")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}""", "'shape' must be an array")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1],"data_offsets":[1]}}""", "'data_offsets' must be two")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}""", "'data_offsets' must be two")]
    [TestCase("""{"t":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}""", "'data_offsets' must be two")]
    [TestCase("""{"t":[1]}""", "must be an object")]
    public void MissingOrIllTypedTensorInfo(string json, string problem)
    {
        var e = AssertRefused(Raw(json, 1), SafetensorsFormatError.InvalidTensorInfo);
        Assert.That(e.Message, Does.Contain("tensor 't'").And.Contain(problem));
    }

    [Test]
    public void UnknownDType()
    {
        var e = AssertRefused(Raw("{" + Tensor("w", "F128", "[1]", 0, 16) + "}", 16), SafetensorsFormatError.UnknownDType);
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("unknown dtype 'F128'"));
    }

    [Test]
    public void NegativeDimension()
    {
        var e = AssertRefused(Raw("{" + Tensor("w", "U8", "[2, -1]", 0, 0) + "}"), SafetensorsFormatError.NegativeDimension);
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("-1"));
    }

    [TestCase("[4611686018427387904, 4611686018427387904]", "U8")] // [2^62, 2^62]
    [TestCase("[4294967296, 4294967296]", "U8")]
    [TestCase("[2305843009213693952]", "F64")] // 2^61 elements × 8 bytes = 2^64
    [TestCase("[18446744073709551615]", "U8")] // above long.MaxValue
    public void ShapeWhoseSizeOverflows(string shape, string dtype)
    {
        var e = AssertRefused(Raw("{" + Tensor("w", dtype, shape, 0, 8) + "}", 8), SafetensorsFormatError.SizeOverflow);
        Assert.That(e.Message, Does.Contain("'w'"));
    }

    [Test]
    public void ShapeNotMatchingTheByteSpan()
    {
        var e = AssertRefused(Raw("{" + Tensor("w", "F32", "[2, 3]", 0, 20) + "}", 20), SafetensorsFormatError.SizeMismatch);
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("20 bytes").And.Contain("needs 24"));
    }

    [Test]
    public void EndBeforeBegin()
    {
        var e = AssertRefused(Raw("{" + Tensor("w", "U8", "[0]", 4, 0) + "}", 4), SafetensorsFormatError.InvalidOffsets);
        Assert.That(e.Message, Does.Contain("'w'").And.Contain("before begin"));
    }

    [Test]
    public void OverlappingOffsets()
    {
        var json = "{" + Tensor("a", "U8", "[4]", 0, 4) + "," + Tensor("b", "U8", "[4]", 2, 6) + "}";
        var e = AssertRefused(Raw(json, 6), SafetensorsFormatError.InvalidOffsets);
        Assert.That(e.Message, Does.Contain("'b'").And.Contain("overlaps tensor 'a'"));
        Assert.That(e.TensorName, Is.EqualTo("b"));
    }

    [Test]
    public void TwoTensorsSharingTheSameBytes()
    {
        var json = "{" + Tensor("a", "U8", "[4]", 0, 4) + "," + Tensor("b", "U8", "[4]", 0, 4) + "}";
        var e = AssertRefused(Raw(json, 4), SafetensorsFormatError.InvalidOffsets);
        Assert.That(e.Message, Does.Contain("overlaps"));
    }

    [Test]
    public void GapBetweenTensors()
    {
        var json = "{" + Tensor("a", "U8", "[4]", 0, 4) + "," + Tensor("b", "U8", "[4]", 8, 12) + "}";
        var e = AssertRefused(Raw(json, 12), SafetensorsFormatError.InvalidOffsets);
        Assert.That(e.Message, Does.Contain("'b'").And.Contain("gap of 4 bytes"));
    }

    [Test]
    public void DataNotStartingAtZero()
    {
        var e = AssertRefused(Raw("{" + Tensor("a", "U8", "[4]", 4, 8) + "}", 8), SafetensorsFormatError.InvalidOffsets);
        Assert.That(e.Message, Does.Contain("'a'").And.Contain("gap"));
    }

    [Test]
    public void TruncatedData()
    {
        var json = "{" + Tensor("a", "F32", "[4]", 0, 16) + "," + Tensor("b", "F32", "[4]", 16, 32) + "}";
        var e = AssertRefused(Raw(json, 24), SafetensorsFormatError.TruncatedData);
        Assert.That(e.Message, Does.Contain("not fully covered").And.Contain("'b'"));
    }

    [Test]
    public void TrailingBytes()
    {
        var e = AssertRefused(Raw("{" + Tensor("a", "F32", "[4]", 0, 16) + "}", 20), SafetensorsFormatError.TrailingBytes);
        Assert.That(e.Message, Does.Contain("not fully covered").And.Contain("4 trailing bytes"));
    }

    [Test]
    public void HostileNamesStayOnOneShortLine()
    {
        var name = "evil\\n" + new string('x', 5000);
        var e = AssertRefused(Raw("{" + Tensor(name, "F128", "[1]", 0, 1) + "}", 1), SafetensorsFormatError.UnknownDType);
        Assert.That(e.Message, Does.Contain("evil\\u000a"));
        Assert.That(e.Message.Length, Is.LessThan(300));
    }
}
