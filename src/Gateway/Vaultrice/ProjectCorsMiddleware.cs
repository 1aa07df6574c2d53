using Microsoft.Extensions.Primitives;
using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>
/// CORS for <c>/project/{projectId}/…</c> (WIRE.md 1.8): preflights are answered from the union of the project's
/// keys' allow-lists, <c>*</c> only when some key is unrestricted; arbitrary origins are never reflected.
/// The real request is then checked against its own key by the authenticator.
/// </summary>
public sealed class ProjectCorsMiddleware(RequestDelegate next, ProjectDirectory projects)
{
    private const string AllowedHeaders = "Authorization, Content-Type, X-Enc-KV, X-Id-Sig, X-Id-Sig-KV, x-vaultrice-auth-token, x-vaultrice-auth-signature";
    private const string AllowedMethods = "GET, POST, DELETE, OPTIONS";

    public async Task InvokeAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin) || ProjectIdOf(context.Request.Path) is not { } projectId)
        {
            await next(context);
            return;
        }

        var allowed = await AllowedOriginAsync(projectId, origin);
        var preflight = HttpMethods.IsOptions(context.Request.Method)
            && !StringValues.IsNullOrEmpty(context.Request.Headers.AccessControlRequestMethod);
        context.Response.Headers.Append("Vary", "Origin");
        if (preflight)
        {
            if (allowed is null)
            {
                throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.OriginNotAllowed, "This origin is not allowed for this project.");
            }

            context.Response.Headers.AccessControlAllowOrigin = allowed;
            context.Response.Headers.AccessControlAllowMethods = AllowedMethods;
            context.Response.Headers.AccessControlAllowHeaders = AllowedHeaders;
            context.Response.Headers.AccessControlMaxAge = "600";
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (allowed is not null)
        {
            context.Response.Headers.AccessControlAllowOrigin = allowed;
        }

        await next(context);
    }

    /// <summary>The value for Access-Control-Allow-Origin, or null when no key of the project admits the origin.</summary>
    private async Task<string?> AllowedOriginAsync(string projectId, string origin)
    {
        var project = await projects.GetAsync(projectId);
        if (project is null)
        {
            return null;
        }

        var keys = project.Keys.Where(k => k.Enabled).ToList();
        if (keys.Any(k => k.AllowedOrigins.Count == 0))
        {
            return "*";
        }

        return keys.Any(k => k.AllowedOrigins.Any(p => OriginPolicy.Matches(p, origin))) ? origin : null;
    }

    private static string? ProjectIdOf(PathString path)
    {
        var value = path.Value;
        const string prefix = "/project/";
        if (value is null || !value.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = value.IndexOf('/', prefix.Length);
        var id = end < 0 ? value[prefix.Length..] : value[prefix.Length..end];
        return Names.IsValidProjectId(id) ? id : null;
    }
}
