using System.IO.Compression;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

/// <summary>Scenario C9: pickle checkpoints are refused by extension and by content, never parsed.</summary>
public sealed class PickleRefusalTests : SafetensorsTestFiles
{
    private static byte[] ValidFile() =>
        Raw("""{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", 1);

    [TestCase("model.ckpt")]
    [TestCase("model.pt")]
    [TestCase("model.pth")]
    [TestCase("pytorch_model.bin")]
    [TestCase("MODEL.CKPT")]
    public void PickleExtensionsAreRefusedEvenWithSafetensorsContent(string fileName)
    {
        var path = WriteBytes(fileName, ValidFile());
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Reason, Is.EqualTo(SafetensorsFormatError.PickleFormat));
        Assert.That(e.Message, Does.Contain("pickle formats are not supported").And.Contain("convert the file to .safetensors"));
        Assert.That(e.Message, Does.Not.Contain(Directory));
    }

    [TestCase(2)]
    [TestCase(4)]
    [TestCase(5)]
    public void PickleStreamContentIsRefused(int protocol)
    {
        // PROTO n, EMPTY_DICT, STOP: a complete pickle; with GLOBAL/REDUCE it could run code when unpickled.
        var e = AssertRefused([0x80, (byte)protocol, 0x7D, 0x2E], SafetensorsFormatError.PickleFormat);
        Assert.That(e.Message, Does.Contain("convert the file to .safetensors"));
    }

    [Test]
    public void PickleAttackPayloadIsRefusedAndNeverRun()
    {
        // Shaped like safetensors' attacks/torch_ace_create.py: PROTO 2, GLOBAL os.system, a command, REDUCE.
        var sentinel = PathOf("pwned");
        var payload = new List<byte> { 0x80, 0x02 };
        payload.AddRange("cposix\nsystem\n(X"u8.ToArray());
        var command = System.Text.Encoding.ASCII.GetBytes($"touch {sentinel}");
        payload.AddRange(BitConverter.GetBytes(command.Length));
        payload.AddRange(command);
        payload.AddRange("tR."u8.ToArray());

        AssertRefused(payload.ToArray(), SafetensorsFormatError.PickleFormat);
        Assert.That(File.Exists(sentinel), Is.False);
    }

    [Test]
    public void TorchZipCheckpointIsRefused()
    {
        // torch.save's default format: a zip archive holding data.pkl.
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("archive/data.pkl").Open();
            entry.Write([0x80, 0x02, 0x7D, 0x2E]);
        }
        var e = AssertRefused(buffer.ToArray(), SafetensorsFormatError.PickleFormat);
        Assert.That(e.Message, Does.Contain("pickle/zip"));
    }

    [Test]
    public void AnOrdinaryFileStartingWithAByteOf0x80IsNotMistakenForPickle()
    {
        // 0x80 0x01 is not a pickle protocol we recognise; the file is judged as safetensors.
        AssertRefused([0x80, 0x01, 0, 0, 0, 0, 0, 0, 0], SafetensorsFormatError.HeaderLengthBeyondFile);
    }
}
