using OrleansVault.Errors;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Bootstrap;

namespace OrleansVault.Gateway.Demo;

/// <summary>What the demo page needs to open the SDK: the project and a short-lived token bound to the page's origin.</summary>
public sealed record DemoToken(string ProjectId, string AccessToken);

/// <summary>
/// <c>POST /demo/token</c>: mints an access token of the bootstrap project's key for the demo page. Only a page served
/// by this gateway may ask (its <c>Origin</c> must be this gateway's own), so another site a developer visits cannot
/// mint tokens from a running development gateway. The token is never logged.
/// </summary>
public static class DemoTokenEndpoint
{
    public const string Path = "/demo/token";

    public static async Task<IResult> HandleAsync(HttpContext context, GatewayReadiness readiness, ProjectDirectory projects, TokenService tokens, AuditTrail audit)
    {
        var origin = context.Request.Headers.Origin.ToString();
        var address = context.Connection.RemoteIpAddress?.ToString();
        if (!IsOwnOrigin(context.Request, origin))
        {
            if (readiness.Bootstrap is { } known)
            {
                audit.Record(known.ProjectId, known.KeyId, "token.mint", "refused", address, $"demo page: {ErrorCodes.OriginNotAllowed}");
            }

            throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.OriginNotAllowed,
                "Demo tokens are only for pages served by this gateway: the Origin must be the gateway's own origin.");
        }

        if (readiness.Bootstrap is not { } bootstrap)
        {
            throw new VaultException(VaultErrorKind.Unavailable, ErrorCodes.Unavailable, "The gateway is still starting. Please retry.");
        }

        var key = (await projects.GetAsync(bootstrap.ProjectId))?.FindKey(bootstrap.KeyId);
        if (key is null || !key.Enabled)
        {
            throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.KeyDisabled, "The bootstrap project's API key is disabled or gone.");
        }

        // A key with an allow-list must admit the page too, or every request made with the token would be refused.
        OriginPolicy.Enforce(key, origin);
        var token = await tokens.MintAsync(bootstrap.ProjectId, key.KeyId, origin);
        audit.Record(bootstrap.ProjectId, key.KeyId, "token.mint", "ok", address, $"demo page {origin}");
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new DemoToken(bootstrap.ProjectId, token));
    }

    /// <summary>
    /// Whether <paramref name="origin"/> is the origin this request was sent to (same scheme, host and port). A missing
    /// or <c>null</c> Origin (sandboxed frames, privacy redirects) is not.
    /// </summary>
    public static bool IsOwnOrigin(HttpRequest request, string? origin)
    {
        if (string.IsNullOrEmpty(origin) || !request.Host.HasValue)
        {
            return false;
        }

        return string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }
}
