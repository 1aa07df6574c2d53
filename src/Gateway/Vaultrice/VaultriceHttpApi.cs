using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Options;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>The Vaultrice-compatible HTTP API under <c>/project/{projectId}/</c> (WIRE.md 1.1).</summary>
public static class VaultriceHttpApi
{
    public static IEndpointRouteBuilder MapVaultriceApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/project/{projectId}");
        project.MapGet("/auth/token", MintToken);

        project.MapGet("/cache/{cls}/{id}/{key}", GetItem);
        project.MapPost("/cache/{cls}/{id}/{key}", SetItem);
        project.MapDelete("/cache/{cls}/{id}/{key}", RemoveItem);
        project.MapPost("/cache/{cls}/{id}/{key}/{op}", ApplyOperation);
        project.MapPost("/cache/{cls}/{id}", SetItems);
        project.MapGet("/cache/{cls}/{id}", GetAll);
        project.MapDelete("/cache/{cls}/{id}", RemoveItems);
        project.MapPost("/cache-query/{cls}/{id}", GetItems);
        project.MapGet("/cache-keys/{cls}/{id}", GetKeys);
        project.MapPost("/message/{cls}/{id}", SendMessage);
        project.MapGet("/presence-list/{cls}/{id}", GetPresence);
        project.MapPost("/cache-encryption/{cls}/{id}", GetEncryptionSettings);
        project.MapPost("/cache-encryption-rotate/{cls}/{id}", RotateEncryption);
        return app;
    }

    private static async Task MintToken(HttpContext context, string projectId, RequestAuthenticator auth, TokenService tokens, AuditTrail audit)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var origin = Origin(context);
        var address = context.Connection.RemoteIpAddress?.ToString();
        string token;
        try
        {
            if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsMissing, "Mint tokens with Basic API key and secret.");
            }

            var (_, key) = await auth.VerifyBasicAsync(projectId, header["Basic ".Length..].Trim());
            OriginPolicy.Enforce(key, origin);
            token = await tokens.MintAsync(projectId, key.KeyId, origin);
            audit.Record(projectId, key.KeyId, "token.mint", "ok", address, origin);
        }
        catch (VaultException error) when (Names.IsValidProjectId(projectId))
        {
            // The key id (never the secret) of the attempt, for the record.
            audit.Record(projectId, RequestAuthenticator.BasicKeyId(header), "token.mint", "refused", address, error.Code);
            throw;
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(token, context.RequestAborted);
    }

    private static async Task GetItem(HttpContext context, string projectId, string cls, string id, string key, RequestAuthenticator auth, ObjectReferences grains)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        Names.EnsureKey(key);
        var item = await grain.GetItem(key);
        if (item is null)
        {
            context.Features.Set<IStatusCodePagesFeature>(new BareStatusFeature { Enabled = false });
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await WriteJsonAsync(context, w => VaultriceJson.WriteItem(w, item));
    }

    private static async Task SetItem(HttpContext context, string projectId, string cls, string id, string key, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var body = await RequestBody.ReadJsonObjectAsync(context, limits.Value.MaxBodyBytes);
        var command = ItemCommand(key, body, RequestBody.KeyVersionHeader(context));
        var item = await grain.SetItem(command);
        if (item is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await WriteJsonAsync(context, w => VaultriceJson.WriteItem(w, item));
    }

    private static async Task SetItems(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var body = await RequestBody.ReadJsonObjectAsync(context, limits.Value.MaxBodyBytes);
        var keyVersion = RequestBody.KeyVersionHeader(context);
        var commands = new List<SetItemCommand>();
        foreach (var property in body.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                throw VaultException.Validation(ErrorCodes.BodyMalformed, "Each item must be an object {value, ttl?}.");
            }

            commands.Add(ItemCommand(property.Name, property.Value, keyVersion) with { IfAbsent = false, ExpectedUpdatedAt = null });
        }

        if (commands.Count > limits.Value.MaxItemsPerRequest)
        {
            throw VaultException.TooLarge(ErrorCodes.BodyTooLarge, $"At most {limits.Value.MaxItemsPerRequest} items per request.");
        }

        var items = await grain.SetItems(commands);
        await WriteJsonAsync(context, w => VaultriceJson.WriteItemMap(w, items));
    }

    private static async Task ApplyOperation(HttpContext context, string projectId, string cls, string id, string key, string op, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        if (!AtomicOperations.TryParseOperation(op, out var operation))
        {
            throw new VaultException(VaultErrorKind.NotFound, ErrorCodes.OperationUnknown, "Unknown atomic operation; use increment, decrement, push, splice, merge or set-in.");
        }

        Names.EnsureKey(key);
        var body = await RequestBody.ReadJsonObjectAsync(context, limits.Value.MaxBodyBytes);

        // X-Enc-KV is ignored here: atomic operations are always plaintext (WIRE.md 1.5).
        var command = new AtomicCommand(key, operation, body.GetRawText(), RequestBody.OptionalTtl(body), RequestBody.OptionalUpdatedAt(body));
        var item = await grain.Apply(command);
        await WriteJsonAsync(context, w => VaultriceJson.WriteItem(w, item));
    }

    private static async Task GetAll(HttpContext context, string projectId, string cls, string id, string? prefix, RequestAuthenticator auth, ObjectReferences grains)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var items = await grain.GetAll(string.IsNullOrEmpty(prefix) ? null : prefix);
        await WriteJsonAsync(context, w => VaultriceJson.WriteItemMap(w, items));
    }

    private static async Task GetItems(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var names = await RequestBody.ReadNamesAsync(context, limits.Value.MaxBodyBytes, limits.Value.MaxItemsPerRequest)
            ?? throw VaultException.Validation(ErrorCodes.BodyMalformed, "The body must be a JSON array of item names.");
        foreach (var name in names)
        {
            Names.EnsureKey(name);
        }

        var items = await grain.GetItems(names);
        await WriteJsonAsync(context, w => VaultriceJson.WriteItemMap(w, items));
    }

    private static async Task GetKeys(HttpContext context, string projectId, string cls, string id, string? prefix, RequestAuthenticator auth, ObjectReferences grains)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var keys = await grain.GetKeys(string.IsNullOrEmpty(prefix) ? null : prefix);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var key in keys)
            {
                w.WriteStringValue(key);
            }

            w.WriteEndArray();
        });
    }

    private static async Task RemoveItem(HttpContext context, string projectId, string cls, string id, string key, RequestAuthenticator auth, ObjectReferences grains)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        Names.EnsureKey(key);
        await grain.RemoveItems([key]);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task RemoveItems(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var names = await RequestBody.ReadNamesAsync(context, limits.Value.MaxBodyBytes, limits.Value.MaxItemsPerRequest);
        if (names is null)
        {
            await grain.Clear();
        }
        else
        {
            await grain.RemoveItems(names);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task SendMessage(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var bytes = await RequestBody.ReadBytesAsync(context, limits.Value.MaxBodyBytes);
        string payload;
        if (RequestBody.IsText(context))
        {
            payload = JsonSerializer.Serialize(RequestBody.Utf8(bytes));
        }
        else
        {
            using var document = RequestBody.Parse(bytes);
            payload = document.RootElement.GetRawText();
        }

        await IdentityVerifier.VerifyAsync(await auth.ClassPolicyAsync(Names.Address(projectId, cls, id)), payload, IdentityProof.FromHeaders(context.Request.Headers));
        await grain.SendMessage(new MessageCommand(payload, RequestBody.KeyVersionHeader(context), ExcludedConnectionId: null));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task GetPresence(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var entries = await grain.GetPresence();
        await WriteJsonAsync(context, w => VaultriceJson.WritePresence(w, entries));
    }

    private static async Task GetEncryptionSettings(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var info = await grain.GetEncryptionSettings(await SaltLengthAsync(context, limits.Value));
        await WriteJsonAsync(context, w => VaultriceJson.WriteEncryptionSettings(w, info));
    }

    private static async Task RotateEncryption(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains, IOptions<LimitOptions> limits)
    {
        var grain = await AuthorizeAsync(context, projectId, cls, id, auth, grains);
        var info = await grain.RotateEncryption(await SaltLengthAsync(context, limits.Value));
        await WriteJsonAsync(context, w => VaultriceJson.WriteEncryptionSettings(w, info));
    }

    private static async Task<int> SaltLengthAsync(HttpContext context, LimitOptions limits)
    {
        using var document = await RequestBody.ReadJsonAsync(context, limits.MaxBodyBytes);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("saltLength", out var length) || length.ValueKind == JsonValueKind.Null)
        {
            return 16;
        }

        if (length.ValueKind != JsonValueKind.Number || !length.TryGetInt32(out var value))
        {
            throw VaultException.Validation(ErrorCodes.SaltLengthInvalid, "saltLength must be an integer.");
        }

        return value;
    }

    /// <summary>Authenticates the caller for the project in the route and validates the object address before any grain is touched.</summary>
    private static async Task<ISharedObjectGrain> AuthorizeAsync(HttpContext context, string projectId, string cls, string id, RequestAuthenticator auth, ObjectReferences grains)
    {
        var address = Names.Address(projectId, cls, id);
        await auth.AuthorizeObjectAsync(
            address,
            context.Request.Headers.Authorization.ToString(),
            Origin(context),
            context.Request.Headers["X-Id-Sig"].ToString(),
            context.Request.Headers["X-Id-Sig-KV"].ToString());
        return grains.Get(address.GrainKey);
    }

    private static SetItemCommand ItemCommand(string key, JsonElement body, int? keyVersion)
    {
        Names.EnsureKey(key);
        if (!body.TryGetProperty("value", out var value))
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, "'value' is required.");
        }

        var ifAbsent = body.TryGetProperty("ifAbsent", out var flag) && flag.ValueKind == JsonValueKind.True;
        return new SetItemCommand(key, value.GetRawText(), RequestBody.OptionalTtl(body), ifAbsent, RequestBody.OptionalUpdatedAt(body), keyVersion);
    }

    private static string? Origin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        return string.IsNullOrEmpty(origin) ? null : origin;
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        write(writer);
        await writer.FlushAsync(context.RequestAborted);
    }
}
