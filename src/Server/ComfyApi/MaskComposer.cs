using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// POST /upload/mask (ComfyUI's mask editor): the uploaded image's alpha is copied into the original named by
/// <c>original_ref</c> (<c>{"filename","subfolder","type"}</c>, type defaulting to output), and the result, with the
/// original's PNG text chunks, is what gets stored, as a PNG (as ComfyUI does). Original and mask may be any format
/// the decoder reads (PNG, JPEG, WebP …).
/// </summary>
internal static class MaskComposer
{
    /// <summary>4096² pixels: bounds the memory one mask request can take (checked from the headers, before decoding).</summary>
    public const long MaxPixels = 16L * 1024 * 1024;

    /// <summary>Rewrites the staged upload in place; returns an error result, or null to go on storing it.</summary>
    public static IResult? ApplyTo(string stagedMask, string? originalRef, ComfyFiles files)
    {
        JsonObject? reference;
        try { reference = string.IsNullOrEmpty(originalRef) ? null : JsonNode.Parse(originalRef) as JsonObject; }
        catch (JsonException) { reference = null; }
        if (reference is null) return ComfyResults.Error("original_ref must be a JSON object {filename, subfolder, type}.");

        var original = files.FindExisting(ComfyJson.String(reference, "filename"), ComfyJson.String(reference, "subfolder"),
            ComfyJson.String(reference, "type") ?? "output");
        switch (original.Result)
        {
            case ComfyFiles.Lookup.Invalid: return ComfyResults.Error("Invalid original_ref.");
            case ComfyFiles.Lookup.NotFound: return ComfyResults.Error("The original image does not exist.", StatusCodes.Status404NotFound);
        }

        var originalBytes = File.ReadAllBytes(original.Path);
        var maskBytes = File.ReadAllBytes(stagedMask);
        DecodedImage image, mask;
        try
        {
            image = ImageDecoder.Decode(originalBytes, MaxPixels).ToRgba();
            mask = ImageDecoder.Decode(maskBytes, MaxPixels).ToRgba();
        }
        catch (ImageDecodeException e)
        {
            return ComfyResults.Error($"Unreadable image: {e.Message}");
        }
        if (image.Width != mask.Width || image.Height != mask.Height)
            return ComfyResults.Error($"The mask is {mask.Width}x{mask.Height} but the original is {image.Width}x{image.Height}.");

        for (var i = 3; i < image.Pixels.Length; i += 4) image.Pixels[i] = mask.Pixels[i];
        File.WriteAllBytes(stagedMask, PngWriter.Encode(image, PngText.Read(originalBytes)));
        return null;
    }
}
