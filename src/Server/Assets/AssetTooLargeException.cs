namespace CharacterGen.Server.Assets;

/// <summary>An upload went past <see cref="AssetStoreOptions.MaxUploadBytes"/>; nothing was stored.</summary>
public sealed class AssetTooLargeException(long limitBytes)
    : Exception($"The asset exceeds the upload limit of {limitBytes} bytes.")
{
    public long LimitBytes { get; } = limitBytes;
}
