using CharacterGen.Nodes.Files;
using CharacterGen.Server.WorkflowsApi;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// GET /api/workflows (the names in the saved-workflows folder, <c>--workflows</c>) and GET /api/workflows/{name}
/// (one file's JSON), for the web page's workflow picker. Not a ComfyUI route; names resolve only inside the folder.
/// </summary>
internal static class SavedWorkflowEndpoints
{
    private const long MaxBytes = 16 << 20;

    public static void MapSavedWorkflowRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/workflows", (SavedWorkflows saved) => ComfyResults.Json(ComfyJson.Strings(List(saved.Root))));
        api.MapGet("/workflows/{*name}", async (string name, SavedWorkflows saved, CancellationToken cancellationToken) =>
        {
            try
            {
                return Results.Text(await saved.ReadAsync(name, MaxBytes, cancellationToken), "application/json; charset=utf-8");
            }
            catch (FileNotFoundException)
            {
                return Results.NotFound();
            }
            catch (PathEscapeException)
            {
                return Results.BadRequest();
            }
            catch (SavedWorkflowTooLargeException)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }
        });
    }

    /// <summary>Relative "/"-separated names without ".json", sorted; links are not followed out of the folder.</summary>
    private static IEnumerable<string> List(string root)
    {
        if (!Directory.Exists(root)) return [];
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint | FileAttributes.Hidden };
        return Directory.EnumerateFiles(root, "*.json", options)
            .Select(path => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/')[..^".json".Length])
            .Order(StringComparer.Ordinal);
    }
}
