using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// Authenticates every request to the hub (negotiate and connect) before SignalR sees it, through the same
/// <see cref="RequestAuthenticator"/> as the other doors: a bad or missing token is refused with 401/403 and a JSON
/// error body, never an accepted connection. The token comes as <c>Authorization: Bearer</c> or, on WebSockets,
/// SignalR's <c>access_token</c> query parameter (never logged, WIRE.md 1.8).
/// </summary>
public sealed class NativeAuthMiddleware(RequestDelegate next)
{
    public const string CredentialsItem = "ov.native.credentials";

    public async Task InvokeAsync(HttpContext context, RequestAuthenticator auth)
    {
        var projectId = context.Request.Query[NativeProtocol.ProjectParameter].ToString();
        if (string.IsNullOrEmpty(projectId))
        {
            throw VaultException.Validation(ErrorCodes.ProjectIdInvalid, $"Name the project in the '{NativeProtocol.ProjectParameter}' query parameter.");
        }

        var header = context.Request.Headers.Authorization.ToString();
        var queryToken = context.Request.Query["access_token"].ToString();
        var authorization = header.Length > 0 ? header : queryToken.Length > 0 ? "Bearer " + queryToken : string.Empty;
        if (authorization.Length > 0 && !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // API secrets stay with the backend that mints tokens: the hub takes access tokens only.
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsInvalid, "The hub accepts access tokens (Bearer) only; mint one with GET /project/{projectId}/auth/token.");
        }

        var origin = context.Request.Headers.Origin.ToString();
        var caller = await auth.AuthenticateAsync(projectId, authorization, origin.Length == 0 ? null : origin);
        context.Items[CredentialsItem] = new NativeCredentials(caller, authorization, caller.Origin, context.Connection.RemoteIpAddress?.ToString());
        await next(context);
    }
}
