using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CharacterGen.Server.Assets;

/// <summary>charactergen.v1.Assets: maps the proto to <see cref="AssetStore"/> and store errors to statuses.</summary>
public sealed class AssetsService(AssetStore store, GrpcServerOptions grpcOptions) : Protos.V1.Assets.AssetsBase
{
    /// <summary>Room for the framing and the first message's AssetInfo next to a chunk.</summary>
    private const int MessageOverheadBytes = 1024;

    public override async Task<UploadAssetResponse> Upload(IAsyncStreamReader<UploadAssetRequest> requests, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requests.MoveNext(cancellationToken))
            RpcErrors.ThrowInvalidArgument("file_name", "the upload stream carried no messages; the first one names the file");
        var first = requests.Current;
        var metadata = AssetMetadata.Create(first.FileName, first.ContentType, out var problems);
        if (problems.Count > 0)
            RpcErrors.ThrowInvalidArgument("Invalid upload metadata.", problems.Select(p => (FieldName(p.Field), p.Description)));

        // Past the upload limit, AssetTooLargeException becomes RESOURCE_EXHAUSTED (GrpcErrorMapping).
        await using var upload = store.BeginUpload(metadata);
        await upload.WriteAsync(first.Chunk.Memory, cancellationToken);
        while (await requests.MoveNext(cancellationToken))
            await upload.WriteAsync(requests.Current.Chunk.Memory, cancellationToken);
        var result = await upload.CommitAsync(cancellationToken);
        return new UploadAssetResponse
        {
            AssetId = result.Asset.Id.Value,
            SizeBytes = result.Asset.SizeBytes,
            AlreadyStored = result.AlreadyStored,
        };
    }

    public override async Task Download(DownloadAssetRequest request, IServerStreamWriter<DownloadAssetResponse> responses, ServerCallContext context)
    {
        var id = ParseId(request.AssetId);
        var asset = store.Find(id);
        await using var content = asset is null ? null : store.OpenRead(id);
        if (asset is null || content is null) RpcErrors.ThrowNotFound("Asset not found.");

        var chunkBytes = Math.Max(1, Math.Min(store.Options.DownloadChunkBytes, grpcOptions.MaxSendMessageBytes - MessageOverheadBytes));
        var buffer = new byte[chunkBytes];
        var message = new DownloadAssetResponse { Info = ToProto(asset) };
        var sent = false;
        int read;
        while ((read = await content.ReadAsync(buffer, context.CancellationToken)) > 0)
        {
            message.Chunk = ByteString.CopyFrom(buffer, 0, read);
            await responses.WriteAsync(message, context.CancellationToken);
            message = new DownloadAssetResponse();
            sent = true;
        }
        if (!sent) await responses.WriteAsync(message, context.CancellationToken); // empty file: info, empty chunk
    }

    public override Task<StatAssetResponse> Stat(StatAssetRequest request, ServerCallContext context)
    {
        var asset = store.Find(ParseId(request.AssetId));
        if (asset is null) RpcErrors.ThrowNotFound("Asset not found.");
        return Task.FromResult(new StatAssetResponse { Info = ToProto(asset) });
    }

    /// <summary>Rejects anything but 64 hex digits before the id gets near the file system.</summary>
    private static AssetId ParseId(string text)
    {
        if (!AssetId.TryParse(text, out var id))
            RpcErrors.ThrowInvalidArgument("asset_id", "must be 64 hexadecimal characters (the SHA-256 returned by Upload)");
        return id;
    }

    private static AssetInfo ToProto(StoredAsset asset) => new()
    {
        AssetId = asset.Id.Value,
        SizeBytes = asset.SizeBytes,
        ContentType = asset.Metadata.ContentType,
        FileName = asset.Metadata.FileName,
        CreatedAt = Timestamp.FromDateTimeOffset(asset.CreatedAt),
    };

    private static string FieldName(AssetMetadataField field) => field switch
    {
        AssetMetadataField.FileName => "file_name",
        _ => "content_type",
    };
}
