using System.Diagnostics;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Tests.Imaging;

/// <summary>
/// Our PNG writer checked by a reader that shares no code with it: Python's zlib and struct (png_check.py) verify
/// the chunk CRCs and order, undo the filters and read the text chunks.
/// </summary>
public sealed class PngWriterTests
{
    private const string Python = "/usr/bin/python3";

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(4)]
    public void An_independent_reader_gets_back_the_pixels_and_the_text(int channels)
    {
        const int width = 29, height = 11;
        var pixels = new byte[width * height * channels];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 131 + (i / 7) * 17);
        string prompt = "{\"3\":{\"class_type\":\"KSampler\"}}", workflow = "{\"title\":\"猫 — café\"}";

        var png = PngWriter.Encode(new DecodedImage(width, height, channels, pixels),
            [KeyValuePair.Create("prompt", prompt), KeyValuePair.Create("workflow", workflow), KeyValuePair.Create("note", "café")]);
        var read = Check(png);

        Assert.Multiple(() =>
        {
            Assert.That(((int)read["width"]!, (int)read["height"]!), Is.EqualTo((width, height)));
            Assert.That((int)read["colour"]!, Is.EqualTo(channels switch { 1 => 0, 3 => 2, _ => 6 }));
            Assert.That(Convert.FromHexString((string)read["pixels"]!), Is.EqualTo(pixels));
            Assert.That(read["chunks"]!.AsArray().Select(c => (string)c!), Is.EqualTo(new[] { "IHDR", "tEXt", "iTXt", "tEXt", "IDAT", "IEND" }),
                "text before the pixels, so readers that stop at IDAT still see it");
            // Latin-1 text in tEXt (as Pillow writes it, which ComfyUI's page reads), anything else in UTF-8 iTXt.
            Assert.That((string)read["text"]!["prompt"]!["chunk"]!, Is.EqualTo("tEXt"));
            Assert.That((string)read["text"]!["prompt"]!["text"]!, Is.EqualTo(prompt));
            Assert.That((string)read["text"]!["workflow"]!["chunk"]!, Is.EqualTo("iTXt"));
            Assert.That((string)read["text"]!["workflow"]!["text"]!, Is.EqualTo(workflow));
            Assert.That((string)read["text"]!["note"]!["text"]!, Is.EqualTo("café"));
        });
    }

    private static JsonNode Check(byte[] png)
    {
        // The independent reader is required, never skipped: scripts/deps.sh test installs python3.
        Assert.That(File.Exists(Python), Is.True, $"{Python} is missing; run scripts/deps.sh test");
        var file = Path.Combine(Path.GetTempPath(), $"cg-png-check-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(file, png);
        try
        {
            var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(TestContext.CurrentContext.TestDirectory, "Imaging", "png_check.py"));
            start.ArgumentList.Add(file);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.EqualTo(0), stderr.Result);
            return JsonNode.Parse(stdout)!;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
