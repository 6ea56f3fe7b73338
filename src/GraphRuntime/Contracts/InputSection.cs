namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>The three blocks of ComfyUI's INPUT_TYPES.</summary>
public enum InputSection { Required, Optional, Hidden }

/// <summary>Hidden inputs the runtime fills in itself (ComfyUI's "hidden" block).</summary>
public static class HiddenInputs
{
    /// <summary>The whole API-format prompt (a <see cref="System.Text.Json.Nodes.JsonObject"/>).</summary>
    public const string Prompt = "PROMPT";
    /// <summary>extra_data.extra_pnginfo (a JsonNode or null).</summary>
    public const string ExtraPngInfo = "EXTRA_PNGINFO";
    /// <summary>The node's id (a string). Makes the node's cache key depend on its id, as in ComfyUI.</summary>
    public const string UniqueId = "UNIQUE_ID";
}
