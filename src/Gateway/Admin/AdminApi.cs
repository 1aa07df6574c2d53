using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Admin;

/// <summary>The admin token that enables <c>/admin</c>, bound from <c>Vault:Admin</c>; without one the admin API answers 404.</summary>
public sealed class AdminOptions
{
    public const string Section = "Vault:Admin";

    /// <summary>A long random bearer token (at least 32 characters). Keep it out of browsers: it rules every project.</summary>
    public string? Token { get; set; }
}

/// <summary>
/// The admin API: API keys (disable, enable, add and remove secrets) and the audit log of a project. Changes go
/// through the project grain, so every gateway of a cluster sees them within <c>Vault:Auth:ProjectCacheTtl</c>.
/// </summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/projects/{projectId}").AddEndpointFilter(RequireAdminAsync);
        admin.MapGet("/keys", ListKeys);
        admin.MapPost("/keys/{keyId}/disable", (HttpContext context, string projectId, string keyId, AdminServices services) =>
            SetEnabledAsync(context, projectId, keyId, enabled: false, services));
        admin.MapPost("/keys/{keyId}/enable", (HttpContext context, string projectId, string keyId, AdminServices services) =>
            SetEnabledAsync(context, projectId, keyId, enabled: true, services));
        admin.MapPost("/keys/{keyId}/secrets", AddSecretAsync);
        admin.MapDelete("/keys/{keyId}/secrets/{secretId}", RemoveSecretAsync);
        admin.MapGet("/audit", QueryAuditAsync);
        return app;
    }

    private static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var expected = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.Token;
        if (string.IsNullOrEmpty(expected))
        {
            throw new VaultException(VaultErrorKind.NotFound, ErrorCodes.AdminDisabled, "The admin API is off: set Vault:Admin:Token to enable it.");
        }

        var header = context.Request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : string.Empty;

        // Hashing both sides first makes the comparison fixed-time whatever the lengths.
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            var projectId = context.Request.RouteValues["projectId"] as string ?? "-";
            context.RequestServices.GetRequiredService<AuditTrail>().Record(projectId, null, "admin.request", "refused", Address(context), ErrorCodes.AdminUnauthorized);
            throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.AdminUnauthorized, "The admin token is missing or wrong.");
        }

        return await next(invocation);
    }

    private static async Task<IResult> ListKeys(string projectId, AdminServices services)
    {
        var snapshot = await services.Projects.GetAsync(projectId) ?? throw UnknownProject();
        return Results.Json(snapshot.Keys.Select(k => new
        {
            keyId = k.KeyId,
            enabled = k.Enabled,
            allowedOrigins = k.AllowedOrigins,
            allowNonBrowser = k.AllowNonBrowser,
            createdAt = k.CreatedAt,
            secrets = new[] { new { secretId = ApiKeyRecord.PrimarySecretId, createdAt = k.CreatedAt } }
                .Concat((k.ExtraSecrets ?? []).Select(s => new { secretId = s.SecretId, createdAt = s.CreatedAt })),
        }));
    }

    private static async Task<IResult> SetEnabledAsync(HttpContext context, string projectId, string keyId, bool enabled, AdminServices services)
    {
        await EnsureProjectAsync(projectId, services);
        var snapshot = await services.Grains.GetGrain<IProjectGrain>(projectId).SetKeyEnabled(keyId, enabled);
        services.Projects.Update(snapshot);
        services.Audit.Record(projectId, keyId, enabled ? "key.enable" : "key.disable", "ok", Address(context));
        return Results.NoContent();
    }

    private static async Task<IResult> AddSecretAsync(HttpContext context, string projectId, string keyId, AdminServices services)
    {
        await EnsureProjectAsync(projectId, services);
        var pepper = (await services.KeyRing.GetAsync()).Pepper;
        var secret = SecretHasher.NewSecret();
        var record = new ApiSecretRecord("s-" + SecretHasher.NewId(6), SecretHasher.Hash(pepper, secret), services.Time.GetUtcNow().ToUnixTimeMilliseconds());
        var snapshot = await services.Grains.GetGrain<IProjectGrain>(projectId).AddSecret(keyId, record);
        services.Projects.Update(snapshot);
        services.Audit.Record(projectId, keyId, "key.secret.add", "ok", Address(context), record.SecretId);

        // The secret is shown once, here, and never stored or logged.
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new { secretId = record.SecretId, secret });
    }

    private static async Task<IResult> RemoveSecretAsync(HttpContext context, string projectId, string keyId, string secretId, AdminServices services)
    {
        await EnsureProjectAsync(projectId, services);
        var snapshot = await services.Grains.GetGrain<IProjectGrain>(projectId).RemoveSecret(keyId, secretId);
        services.Projects.Update(snapshot);
        services.Audit.Record(projectId, keyId, "key.secret.remove", "ok", Address(context), secretId);
        return Results.NoContent();
    }

    private static async Task<IResult> QueryAuditAsync(HttpContext context, string projectId, AdminServices services)
    {
        var since = ParseQuery(context, "since", 0);
        var limit = (int)Math.Clamp(ParseQuery(context, "limit", 100), 1, 1000);

        // What this gateway recorded a moment ago is written first, so a query sees it.
        await services.Audit.FlushAsync(context.RequestAborted);
        var events = await services.Grains.GetGrain<IAuditGrain>(projectId).Query(since, limit);
        return Results.Json(events.Select(e => new
        {
            at = e.At,
            keyId = e.KeyId,
            action = e.Action,
            outcome = e.Outcome,
            remoteAddress = e.RemoteAddress,
            detail = e.Detail,
        }));
    }

    private static long ParseQuery(HttpContext context, string name, long fallback)
    {
        var text = context.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw VaultException.Validation(ErrorCodes.BodyMalformed, $"'{name}' must be a non-negative integer.");
    }

    private static async Task EnsureProjectAsync(string projectId, AdminServices services)
    {
        if (!Names.IsValidProjectId(projectId) || await services.Projects.GetAsync(projectId) is null)
        {
            throw UnknownProject();
        }
    }

    private static VaultException UnknownProject() => new(VaultErrorKind.NotFound, ErrorCodes.KeyNotFound, "There is no such project.");

    private static string? Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}

/// <summary>What the admin endpoints use, injected as one parameter.</summary>
public sealed class AdminServices(IGrainFactory grains, ProjectDirectory projects, KeyRingCache keyRing, AuditTrail audit, TimeProvider time)
{
    public IGrainFactory Grains => grains;

    public ProjectDirectory Projects => projects;

    public KeyRingCache KeyRing => keyRing;

    public AuditTrail Audit => audit;

    public TimeProvider Time => time;
}
