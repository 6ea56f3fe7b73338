namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// Maps the ComfyUI-compatible API on the HTTP port. Like ComfyUI, every route exists twice, as <c>/x</c> and
/// <c>/api/x</c>; the jobs API only under <c>/api</c>. The access middleware (auth, origin, host) guards them all.
/// </summary>
public static class ComfyApiEndpoints
{
    public static WebApplication Map(WebApplication app)
    {
        app.UseWebSockets();
        app.UseMiddleware<ComfyErrorMiddleware>();
        app.UseMiddleware<ComfyAccessMiddleware>();
        foreach (var prefix in new[] { "", "/api" })
        {
            var api = app.MapGroup(prefix).WithMetadata(new ComfyApiRoute());
            api.MapPromptRoutes();
            api.MapQueueRoutes();
            api.MapHistoryRoutes();
            api.MapFileRoutes();
            api.MapControlRoutes();
            api.MapInfoRoutes();
            api.MapWebSocketRoute();
        }
        var extensions = app.MapGroup("/api").WithMetadata(new ComfyApiRoute());
        extensions.MapJobsRoutes();
        extensions.MapSavedWorkflowRoutes();
        return app;
    }
}
