namespace CharacterGen.Server.ComfyApi;

/// <summary>POST /upload/mask: the alpha of the uploaded mask copied into the original image (ComfyUI's mask editor).</summary>
internal static class MaskComposer
{
    public static IResult? ApplyTo(string stagedMask, string? originalRef, ComfyFiles files) =>
        ComfyResults.Error("Mask uploads are not supported yet.", StatusCodes.Status501NotImplemented);
}
