using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Options;
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
        admin.MapPut("/keys/{keyId}", PutKeyAsync);
        admin.MapDelete("/keys/{keyId}", DeleteKeyAsync);
        admin.MapGet("/classes", ListClassesAsync);
        admin.MapPut("/classes/{className}", PutClassAsync);
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
            maxConnections = k.MaxConnections,
            messagesPerSecond = k.MessagesPerSecond,
            createdAt = k.CreatedAt,
            secrets = new[] { new { secretId = ApiKeyRecord.PrimarySecretId, createdAt = k.CreatedAt } }
                .Concat((k.ExtraSecrets ?? []).Select(s => new { secretId = s.SecretId, createdAt = s.CreatedAt })),
        }));
    }

    /// <summary>Creates a key (the project too, if new) and returns its secret once, or updates an existing key's origins.</summary>
    private static async Task<IResult> PutKeyAsync(HttpContext context, string projectId, string keyId, KeyRequest request, AdminServices services)
    {
        if (!Names.IsValidProjectId(projectId) || !Names.IsValidProjectId(keyId))
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "Project and key ids are 1-64 of A-Z a-z 0-9 _ -.");
        }

        var origins = (request.AllowedOrigins ?? []).Select(o => o.Trim()).ToList();
        if (origins.FirstOrDefault(o => !IsOriginPattern(o)) is { } bad)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"'{bad}' is not an origin (scheme://host[:port]) or pattern (scheme://*.domain).");
        }

        if (request.MaxConnections is <= 0 || request.MessagesPerSecond is <= 0)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "maxConnections and messagesPerSecond, when given, must be positive.");
        }

        var existing = (await services.Projects.GetAsync(projectId))?.FindKey(keyId);
        var project = services.Grains.GetGrain<IProjectGrain>(projectId);
        string? secret = null;
        ApiKeyRecord record;
        if (existing is null)
        {
            secret = SecretHasher.NewSecret();
            var pepper = (await services.KeyRing.GetAsync()).Pepper;
            record = new ApiKeyRecord(keyId, SecretHasher.Hash(pepper, secret), origins, Enabled: true, request.AllowNonBrowser, services.Time.GetUtcNow().ToUnixTimeMilliseconds())
            {
                MaxConnections = request.MaxConnections,
                MessagesPerSecond = request.MessagesPerSecond,
            };
        }
        else
        {
            record = existing with
            {
                AllowedOrigins = origins,
                AllowNonBrowser = request.AllowNonBrowser,
                MaxConnections = request.MaxConnections,
                MessagesPerSecond = request.MessagesPerSecond,
            };
        }

        services.Projects.Update(await project.UpsertKey(record));
        services.Audit.Record(projectId, keyId, existing is null ? "key.create" : "key.update", "ok", Address(context), string.Join(' ', origins));
        context.Response.Headers.CacheControl = "no-store";
        return existing is null
            ? Results.Json(new { keyId, secretId = ApiKeyRecord.PrimarySecretId, secret }, statusCode: StatusCodes.Status201Created)
            : Results.Json(new { keyId });
    }

    private static async Task<IResult> DeleteKeyAsync(HttpContext context, string projectId, string keyId, AdminServices services)
    {
        await EnsureProjectAsync(projectId, services);
        services.Projects.Update(await services.Grains.GetGrain<IProjectGrain>(projectId).RemoveKey(keyId));
        services.Audit.Record(projectId, keyId, "key.delete", "ok", Address(context));
        return Results.NoContent();
    }

    private static async Task<IResult> ListClassesAsync(string projectId, AdminServices services)
    {
        var snapshot = await services.Projects.GetAsync(projectId) ?? throw UnknownProject();
        return Results.Json(snapshot.Classes.Select(c => new
        {
            name = c.Name,
            defaultTtlMs = c.DefaultTtlMs,
            maxValueBytes = c.MaxValueBytes,
            requireIdSignature = c.RequireIdSignature,
            idSignatureKeyVersions = (c.IdSignatureKeys ?? []).Select(k => new { version = k.Version, revoked = k.Revoked }),
            requireEndToEndEncryption = c.RequireEndToEndEncryption,
            identityMode = (c.Identity?.Mode ?? IdentityMode.None).ToString(),
        }));
    }

    /// <summary>Sets a class's whole policy; gateways apply it within the project cache time, objects when they next activate.</summary>
    private static async Task<IResult> PutClassAsync(HttpContext context, string projectId, string className, ClassOptions options, AdminServices services)
    {
        await EnsureProjectAsync(projectId, services);
        if (!Names.IsValidClass(className))
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "Class names are 1-64 of A-Z a-z 0-9 _ -.");
        }

        if (ClassPolicies.Problem(options) is { } problem)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, problem);
        }

        services.Projects.Update(await services.Grains.GetGrain<IProjectGrain>(projectId).UpsertClass(ClassPolicies.From(className, options)));
        services.Audit.Record(projectId, null, "class.upsert", "ok", Address(context), className);
        return Results.NoContent();
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

    private static bool IsOriginPattern(string origin) =>
        Uri.TryCreate(origin.Replace("://*.", "://wildcard.", StringComparison.Ordinal), UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && !origin.EndsWith('/') && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;

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

/// <summary>The body of <c>PUT /admin/projects/{projectId}/keys/{keyId}</c>.</summary>
public sealed record KeyRequest(IReadOnlyList<string>? AllowedOrigins, bool AllowNonBrowser, int? MaxConnections = null, double? MessagesPerSecond = null);

/// <summary>What the admin endpoints use, injected as one parameter.</summary>
public sealed class AdminServices(IGrainFactory grains, ProjectDirectory projects, KeyRingCache keyRing, AuditTrail audit, TimeProvider time)
{
    public IGrainFactory Grains => grains;

    public ProjectDirectory Projects => projects;

    public KeyRingCache KeyRing => keyRing;

    public AuditTrail Audit => audit;

    public TimeProvider Time => time;
}
