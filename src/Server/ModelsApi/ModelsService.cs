using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CharacterGen.Server.ModelsApi;

/// <summary>charactergen.v1.Models: the models tree as the API sees it, and ComfyUI's /free.</summary>
public sealed class ModelsService(ModelFolders folders, WorkflowEngine engine, ModelCache models, ModelAliases aliases) : Protos.V1.Models.ModelsBase
{
    public override Task<ListModelsResponse> List(ListModelsRequest request, ServerCallContext context)
    {
        if (request.Kind.Length > 0 && !ModelFolders.Kinds.ContainsKey(request.Kind))
            RpcErrors.ThrowInvalidArgument("kind", $"unknown model folder kind; known kinds: {string.Join(", ", ModelFolders.Kinds.Keys)}");
        var kinds = request.Kind.Length > 0 ? [request.Kind] : ModelFolders.Kinds.Keys;
        var response = new ListModelsResponse();
        foreach (var kind in kinds)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            response.Folders.Add(new ModelFolder { Kind = kind, Files = { Describe(kind) } });
        }
        // Aliases stand where checkpoints do (the checkpoint loaders offer them).
        if (request.Kind.Length == 0 || request.Kind == "checkpoints")
            response.Aliases.Add(aliases.All.Select(a => new Protos.V1.ModelAlias
            {
                Name = a.Name,
                Checkpoint = a.Checkpoint,
                Loras = { a.Loras.Select(l => new Protos.V1.AliasLora { Name = l.Name, StrengthModel = l.StrengthModel, StrengthClip = l.StrengthClip }) },
            }));
        return Task.FromResult(response);
    }

    public override async Task<FreeModelsResponse> Free(FreeModelsRequest request, ServerCallContext context)
    {
        var before = engine.CachedEntryCount;
        await engine.FreeAsync(context.CancellationToken);
        // Loaded weights go too, once no cached value still leases them (the output cache was just cleared).
        models.Free();
        return new FreeModelsResponse { ReleasedCacheEntries = Math.Max(0, before - engine.CachedEntryCount) };
    }

    /// <summary>The listed files with size and time; one that vanished since listing is left out.</summary>
    private IEnumerable<ModelFile> Describe(string kind)
    {
        foreach (var name in folders.List(kind))
        {
            FileInfo file;
            try { file = new FileInfo(folders.Resolve(kind, name)); }
            catch (Exception e) when (e is FileNotFoundException or PathEscapeException) { continue; }
            if (!file.Exists) continue;
            yield return new ModelFile { Name = name, SizeBytes = file.Length, ModifiedAt = Timestamp.FromDateTime(file.LastWriteTimeUtc) };
        }
    }
}
