using System.Text.RegularExpressions;

namespace CharacterGen.Server;

/// <summary>
/// Node error messages come from arbitrary exceptions (file not found, native loader errors) and may carry
/// absolute server paths. Clients (gRPC and the ComfyUI API alike) get the file name only; the full message stays in
/// the server log.
/// </summary>
internal static partial class ErrorText
{
    public static string WithoutPaths(string message) =>
        message.Length == 0 ? message : AbsolutePath().Replace(message, match => match.Groups["name"].Value);

    // A Unix or Windows absolute path of two or more segments: "/srv/models/x.safetensors" → "x.safetensors".
    [GeneratedRegex(@"(?<![\w.~/\\])(?:[A-Za-z]:)?[/\\](?:[^\s""'`/\\:*?<>|]+[/\\])+(?<name>[^\s""'`/\\:*?<>|]*)")]
    private static partial Regex AbsolutePath();
}
