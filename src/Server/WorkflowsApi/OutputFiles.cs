using CharacterGen.Nodes.Files;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// The files a job's ui outputs name (ComfyUI's <c>images: [{filename, subfolder, type}]</c>, or any other
/// key listing such entries), read from the data folders for inlining in the final event. Names come from
/// node outputs, so they are resolved with <see cref="SafePath"/> like client input: nothing outside the
/// input/output/temp folders is ever read.
/// </summary>
public sealed class OutputFiles(DataFolders folders, GrpcServerOptions grpcOptions)
{
    /// <summary>Room left in the final message for everything besides file contents.</summary>
    private const int MessageOverheadBytes = 64 * 1024;

    public const string TooLarge = "too_large";
    public const string Unavailable = "unavailable";

    /// <summary>The ui outputs by node id, and every file they name (with content when <paramref name="inline"/>).</summary>
    public async Task<JobSucceeded> DescribeAsync(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> outputs, bool inline, CancellationToken cancellationToken)
    {
        var result = new JobSucceeded();
        foreach (var (nodeId, ui) in outputs)
        {
            var structured = ProtoValues.ToStruct(ui);
            result.Outputs[nodeId] = structured;
            result.Files.AddRange(FilesIn(nodeId, structured));
        }
        if (!inline) return result;

        long budget = Math.Max(0, grpcOptions.MaxSendMessageBytes - MessageOverheadBytes - result.CalculateSize());
        foreach (var file in result.Files)
        {
            var path = Locate(file);
            if (path is null)
            {
                file.ContentOmitted = Unavailable;
                continue;
            }
            try
            {
                if (new FileInfo(path).Length > budget)
                {
                    file.ContentOmitted = TooLarge;
                    continue;
                }
                file.Content = ByteString.CopyFrom(await File.ReadAllBytesAsync(path, cancellationToken));
                budget -= file.Content.Length + 16;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                file.ContentOmitted = Unavailable;
            }
        }
        return result;
    }

    /// <summary>Entries of the form {filename, subfolder?, type?} in any list of the ui output.</summary>
    private static IEnumerable<OutputFile> FilesIn(string nodeId, Struct ui)
    {
        foreach (var (key, value) in ui.Fields)
        {
            if (value.KindCase != Value.KindOneofCase.ListValue) continue;
            foreach (var item in value.ListValue.Values)
            {
                if (item.KindCase != Value.KindOneofCase.StructValue) continue;
                var fields = item.StructValue.Fields;
                if (Text(fields, "filename") is not { Length: > 0 } filename) continue;
                yield return new OutputFile
                {
                    NodeId = nodeId,
                    UiKey = key,
                    Filename = filename,
                    Subfolder = Text(fields, "subfolder") ?? "",
                    Type = Text(fields, "type") ?? "output",
                };
            }
        }
    }

    /// <summary>The file's path inside its data folder, or null when the name is unsafe or the file is missing.</summary>
    private string? Locate(OutputFile file)
    {
        if (file.Type is not ("output" or "temp" or "input")) return null;
        var root = folders.ForType(file.Type);
        var relative = string.IsNullOrEmpty(file.Subfolder) ? file.Filename : file.Subfolder + "/" + file.Filename;
        return SafePath.TryResolve(root, relative, out var path) && File.Exists(path) ? path : null;
    }

    private static string? Text(Google.Protobuf.Collections.MapField<string, Value> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.KindCase == Value.KindOneofCase.StringValue ? value.StringValue : null;
}
