using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// The web page (web/, built into <see cref="ServerOptions.WebRoot"/>) at <c>/</c> on the HTTP port: its static files
/// with their content types, and index.html for any other extension-less GET outside the API prefixes, so the
/// page's own routes reload. The files are static and public (the page asks for the API key itself); nothing is
/// served from outside the folder. Without a built page, <c>/</c> says how to build it.
/// </summary>
public static class WebPage
{
    public const string NotBuiltText =
        "CharacterGen is running. The web page is not built: run `npm ci && npm run build` in web/ (scripts/demo.sh " +
        "and scripts/test.sh do), then restart. The API status is at /status.\n";

    // Scripts, styles, images and connections only from this server; no frames, plugins or inline script.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly string[] ApiPrefixes = ["/api/", "/v1/", "/openapi/", "/ws", "/metrics", "/charactergen.", "/grpc."];

    public static WebApplication MapWebPage(this WebApplication app, string webRoot)
    {
        var root = Path.GetFullPath(webRoot);
        var index = Path.Combine(root, "index.html");
        if (!File.Exists(index))
        {
            app.MapGet("/", () => Results.Text(NotBuiltText, "text/plain; charset=utf-8"));
            return app;
        }

        var files = new PhysicalFileProvider(root);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = false,
            OnPrepareResponse = context => Secure(context.Context.Response),
        });
        app.MapGet("/", (HttpContext context) => Index(context, index));
        app.MapGet("/{*path:nonfile}", (HttpContext context) =>
            ApiPrefixes.Any(prefix => context.Request.Path.Value!.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                ? Results.NotFound()
                : Index(context, index));
        return app;
    }

    private static IResult Index(HttpContext context, string index)
    {
        Secure(context.Response);
        context.Response.Headers.CacheControl = "no-cache";
        return Results.File(index, "text/html; charset=utf-8");
    }

    private static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}
