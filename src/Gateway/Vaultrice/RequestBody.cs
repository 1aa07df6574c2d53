using System.Buffers;
using System.Text;
using System.Text.Json;
using OrleansVault.Errors;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>Reads request bodies within the configured size limit, whatever server hosts the gateway.</summary>
public static class RequestBody
{
    /// <summary>
    /// The whole body, refused with 413 once it exceeds <paramref name="maxBytes"/>. Reads through the request's pipe,
    /// so the only allocation is the returned array of the body's exact size (a growing buffer per request once made
    /// this nine tenths of the gateway's allocations).
    /// </summary>
    public static async Task<byte[]> ReadBytesAsync(HttpContext context, int maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            var body = result.Buffer;
            if (body.Length > maxBytes)
            {
                reader.AdvanceTo(body.End);
                throw TooLarge(maxBytes);
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException("Reading the request body was cancelled.");
            }

            if (result.IsCompleted)
            {
                var bytes = body.ToArray();
                reader.AdvanceTo(body.End);
                return bytes;
            }

            // Nothing consumed yet: wait for more of the body.
            reader.AdvanceTo(body.Start, body.End);
        }
    }

    private static VaultException TooLarge(int maxBytes) =>
        VaultException.TooLarge(ErrorCodes.BodyTooLarge, $"The request body may be at most {maxBytes} bytes.");

    /// <summary>Parses the body as JSON; an empty body is null.</summary>
    public static async Task<JsonDocument?> ReadJsonAsync(HttpContext context, int maxBytes)
    {
        var bytes = await ReadBytesAsync(context, maxBytes);
        if (bytes.Length == 0)
        {
            return null;
        }

        return Parse(bytes);
    }

    public static async Task<JsonElement> ReadJsonObjectAsync(HttpContext context, int maxBytes)
    {
        using var document = await ReadJsonAsync(context, maxBytes)
            ?? throw VaultException.Validation(ErrorCodes.BodyMalformed, "A JSON object body is required.");
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The body must be a JSON object.");
        }

        return document.RootElement.Clone();
    }

    /// <summary>Reads a JSON array of strings (item names); null when the body is empty.</summary>
    public static async Task<IReadOnlyList<string>?> ReadNamesAsync(HttpContext context, int maxBytes, int maxCount)
    {
        using var document = await ReadJsonAsync(context, maxBytes);
        if (document is null)
        {
            return null;
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array || root.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The body must be a JSON array of item names.");
        }

        if (root.GetArrayLength() > maxCount)
        {
            throw VaultException.TooLarge(ErrorCodes.BodyTooLarge, $"At most {maxCount} names per request.");
        }

        return [.. root.EnumerateArray().Select(e => e.GetString()!)];
    }

    public static JsonDocument Parse(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The request body is not valid JSON.");
        }
    }

    public static bool IsText(HttpContext context) =>
        context.Request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true;

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>An optional non-negative integer such as <c>X-Enc-KV</c>.</summary>
    public static int? KeyVersionHeader(HttpContext context)
    {
        var raw = context.Request.Headers["X-Enc-KV"].ToString();
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (!int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            throw VaultException.Validation(ErrorCodes.KeyVersionInvalid, "X-Enc-KV must be a non-negative integer.");
        }

        return version;
    }

    /// <summary>Reads an optional positive millisecond count (<c>ttl</c>); null and absent mean "use the default".</summary>
    public static long? OptionalTtl(JsonElement body)
    {
        if (!body.TryGetProperty("ttl", out var ttl) || ttl.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (ttl.ValueKind != JsonValueKind.Number || !ttl.TryGetDouble(out var value) || value <= 0 || double.IsInfinity(value))
        {
            throw VaultException.Validation(ErrorCodes.TtlInvalid, "ttl must be a positive number of milliseconds.");
        }

        return (long)Math.Min(Math.Ceiling(value), 100L * 365 * 24 * 3600 * 1000);
    }

    /// <summary>Reads an optional <c>updatedAt</c> condition (milliseconds).</summary>
    public static long? OptionalUpdatedAt(JsonElement body)
    {
        if (!body.TryGetProperty("updatedAt", out var updatedAt) || updatedAt.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (updatedAt.ValueKind != JsonValueKind.Number || !updatedAt.TryGetInt64(out var value))
        {
            throw VaultException.Validation(ErrorCodes.UpdatedAtInvalid, "updatedAt must be an integer number of milliseconds.");
        }

        return value;
    }
}
