namespace CharacterGen.Server.Assets;

/// <summary>A file in the store: its id, size, the metadata of its first upload, and when that was.</summary>
public sealed record StoredAsset(AssetId Id, long SizeBytes, AssetMetadata Metadata, DateTimeOffset CreatedAt);

/// <summary>The result of storing bytes: <see cref="AlreadyStored"/> when identical bytes were there before.</summary>
public sealed record AssetSaveResult(StoredAsset Asset, bool AlreadyStored);
