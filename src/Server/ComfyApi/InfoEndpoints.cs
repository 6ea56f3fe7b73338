using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Server.ComfyApi;

/// <summary>GET /object_info[/{class}], /system_stats, /models[/{folder}], /embeddings, /features.</summary>
internal static class InfoEndpoints
{
    /// <summary>The ComfyUI API version these routes follow (reported as <c>comfyui_version</c>).</summary>
    public const string ComfyUiApiVersion = "0.8.0";

    public static void MapInfoRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/object_info", (WorkflowEngine engine) => ComfyResults.Json(engine.Catalog.ObjectInfo()));
        api.MapGet("/object_info/{node_class}", (string node_class, WorkflowEngine engine) => ComfyResults.Json(engine.Catalog.ObjectInfo(node_class)));
        api.MapGet("/system_stats", SystemStats);
        api.MapGet("/models", () => ComfyResults.Json(ComfyJson.Strings(ModelFolders.Kinds.Keys)));
        api.MapGet("/models/{folder}", (string folder, ModelFolders models) =>
            ModelFolders.Kinds.ContainsKey(folder) ? ComfyResults.Json(ComfyJson.Strings(models.List(folder))) : Results.NotFound());
        api.MapGet("/embeddings", (ModelFolders models) =>
            ComfyResults.Json(ComfyJson.Strings(models.List("embeddings").Select(StripExtension))));
        api.MapGet("/features", (ComfySocketHub hub) => ComfyResults.Json(hub.ServerFeatures()));
    }

    private static string StripExtension(string name)
    {
        var dot = name.LastIndexOf('.');
        return dot > name.LastIndexOf('/') ? name[..dot] : name;
    }

    /// <summary>ComfyUI's shape. Python and PyTorch fields are empty (there are none); argv is never exposed.</summary>
    private static IResult SystemStats()
    {
        var (total, free) = Memory();
        var version = typeof(InfoEndpoints).Assembly.GetName().Version?.ToString(3) ?? "";
        return ComfyResults.Json(new JsonObject
        {
            ["system"] = new JsonObject
            {
                ["os"] = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "win32" : OperatingSystem.IsMacOS() ? "darwin" : RuntimeInformation.OSDescription,
                ["ram_total"] = total,
                ["ram_free"] = free,
                ["comfyui_version"] = ComfyUiApiVersion,
                ["charactergen_version"] = version,
                ["required_frontend_version"] = "",
                ["installed_templates_version"] = "",
                ["required_templates_version"] = "",
                ["python_version"] = "",
                ["pytorch_version"] = "",
                ["embedded_python"] = false,
                ["argv"] = new JsonArray(),
            },
            ["devices"] = new JsonArray(new JsonObject
            {
                ["name"] = "cpu",
                ["type"] = "cpu",
                ["index"] = null,
                ["vram_total"] = total,
                ["vram_free"] = free,
                ["torch_vram_total"] = 0,
                ["torch_vram_free"] = 0,
            }),
        });
    }

    /// <summary>Total memory available to the process and the system's available memory (MemAvailable on Linux).</summary>
    private static (long Total, long Free) Memory()
    {
        var total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var free = Math.Max(0, total - Environment.WorkingSet);
        try
        {
            const string meminfo = "/proc/meminfo";
            if (File.Exists(meminfo))
                foreach (var line in File.ReadLines(meminfo))
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                        && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], out var kib))
                        free = Math.Min(total, kib * 1024);
        }
        catch (IOException) { }
        return (total, free);
    }
}
