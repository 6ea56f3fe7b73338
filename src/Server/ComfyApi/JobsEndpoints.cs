using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// ComfyUI's jobs API (only under /api): GET /api/jobs (filter, sort, page), GET /api/jobs/{id},
/// POST /api/jobs/{id}/cancel (<c>{"cancelled": bool}</c>, idempotent).
/// </summary>
internal static class JobsEndpoints
{
    public static void MapJobsRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/jobs", ListJobs);
        api.MapGet("/jobs/{job_id}", (string job_id, WorkflowEngine engine) =>
            engine.GetJob(job_id) is { } job ? ComfyResults.Json(JobShapes.Job(job, detail: true)) : ComfyResults.Error("Job not found", StatusCodes.Status404NotFound));
        api.MapPost("/jobs/{job_id}/cancel", (string job_id, WorkflowEngine engine) =>
        {
            var job = engine.GetJob(job_id);
            var cancelled = job is { Status: JobStatus.Pending or JobStatus.Running } && engine.Cancel(job_id);
            return ComfyResults.Json(new JsonObject { ["cancelled"] = cancelled });
        });
    }

    private static IResult ListJobs(HttpRequest request, WorkflowEngine engine)
    {
        var query = request.Query;
        HashSet<string>? statuses = null;
        if (query["status"].ToString() is { Length: > 0 } statusText)
        {
            statuses = statusText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => s.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            var invalid = statuses.Where(s => !JobShapes.AllStatuses.Contains(s)).ToList();
            if (invalid.Count > 0)
                return ComfyResults.Error($"Invalid status value(s): {string.Join(", ", invalid)}. Valid values: {string.Join(", ", JobShapes.AllStatuses)}");
        }
        var sortBy = query["sort_by"].ToString() is { Length: > 0 } s1 ? s1.ToLowerInvariant() : "created_at";
        if (sortBy is not ("created_at" or "execution_duration")) return ComfyResults.Error("sort_by must be 'created_at' or 'execution_duration'");
        var sortOrder = query["sort_order"].ToString() is { Length: > 0 } s2 ? s2.ToLowerInvariant() : "desc";
        if (sortOrder is not ("asc" or "desc")) return ComfyResults.Error("sort_order must be 'asc' or 'desc'");

        int? limit = null;
        if (query.ContainsKey("limit"))
        {
            if (!int.TryParse(query["limit"], out var l)) return ComfyResults.Error("limit must be an integer");
            if (l <= 0) return ComfyResults.Error("limit must be a positive integer");
            limit = l;
        }
        var offset = 0;
        if (query.ContainsKey("offset"))
        {
            if (!int.TryParse(query["offset"], out offset)) return ComfyResults.Error("offset must be an integer");
            offset = Math.Max(offset, 0);
        }
        var workflowId = query["workflow_id"].ToString();

        IEnumerable<JobSnapshot> jobs = engine.ListJobs();
        if (statuses is not null) jobs = jobs.Where(j => statuses.Contains(JobShapes.StatusOf(j)));
        if (workflowId.Length > 0) jobs = jobs.Where(j => JobShapes.WorkflowId(j) == workflowId);
        var byDuration = sortBy == "execution_duration";
        var sorted = sortOrder == "desc"
            ? jobs.OrderByDescending(j => JobShapes.SortKey(j, byDuration)).ToList()
            : jobs.OrderBy(j => JobShapes.SortKey(j, byDuration)).ToList();
        var page = sorted.Skip(offset).Take(limit ?? int.MaxValue).ToList();

        return ComfyResults.Json(new JsonObject
        {
            ["jobs"] = new JsonArray(page.Select(j => (JsonNode?)JobShapes.Job(j, detail: false)).ToArray()),
            ["pagination"] = new JsonObject
            {
                ["offset"] = offset,
                ["limit"] = limit,
                ["total"] = sorted.Count,
                ["has_more"] = offset + page.Count < sorted.Count,
            },
        });
    }
}
