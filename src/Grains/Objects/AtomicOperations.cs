using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansVault.Errors;
using OrleansVault.Objects;

namespace OrleansVault.Grains.Objects;

/// <summary>The atomic operations of WIRE.md 1.3 as pure functions: current value JSON and request body in, new value JSON out.</summary>
public static class AtomicOperations
{
    /// <summary>Applies <paramref name="operation"/>; <paramref name="currentJson"/> is null when the key is absent.</summary>
    public static string Apply(AtomicOperation operation, string? currentJson, string argumentJson)
    {
        using var argument = ParseArgument(argumentJson);
        var body = argument.RootElement;
        var result = operation switch
        {
            AtomicOperation.Increment => AddNumber(currentJson, RequireNumber(body), negate: false),
            AtomicOperation.Decrement => AddNumber(currentJson, RequireNumber(body), negate: true),
            AtomicOperation.Push => Push(currentJson, body),
            AtomicOperation.Splice => Splice(currentJson, body),
            AtomicOperation.Merge => Merge(currentJson, body),
            AtomicOperation.SetIn => SetIn(currentJson, body),
            _ => throw VaultException.Validation(ErrorCodes.OperationUnknown, "Unknown atomic operation."),
        };
        EnsureDepth(result);
        return result;
    }

    /// <summary>Values nest at most this deep, so whatever is stored can always be parsed again.</summary>
    public const int MaxValueDepth = 64;

    // Parsing allows more than is ever stored, so a result one level too deep is reported, not thrown from the parser.
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = MaxValueDepth * 4 };
    private static readonly JsonSerializerOptions DeepWrite = new() { MaxDepth = MaxValueDepth * 4 };

    private static void EnsureDepth(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxValueDepth });
        }
        catch (JsonException)
        {
            throw VaultException.Validation(ErrorCodes.ValueTooDeep, $"Values may nest at most {MaxValueDepth} levels deep.");
        }
    }

    public static bool TryParseOperation(string name, out AtomicOperation operation)
    {
        switch (name)
        {
            case "increment": operation = AtomicOperation.Increment; return true;
            case "decrement": operation = AtomicOperation.Decrement; return true;
            case "push": operation = AtomicOperation.Push; return true;
            case "splice": operation = AtomicOperation.Splice; return true;
            case "merge": operation = AtomicOperation.Merge; return true;
            case "set-in": operation = AtomicOperation.SetIn; return true;
            default: operation = default; return false;
        }
    }

    private static JsonDocument ParseArgument(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Deep);
        }
        catch (JsonException)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The request body is not valid JSON.");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "The request body must be a JSON object.");
        }

        return document;
    }

    private static JsonElement RequireNumber(JsonElement body)
    {
        if (!body.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Number)
        {
            throw VaultException.Validation(ErrorCodes.OperandInvalid, "'value' must be a number.");
        }

        return value;
    }

    private static string AddNumber(string? currentJson, JsonElement operand, bool negate)
    {
        JsonElement current = default;
        using var currentDoc = currentJson is null ? null : JsonDocument.Parse(currentJson, Deep);
        if (currentDoc is not null)
        {
            current = currentDoc.RootElement;
            if (current.ValueKind != JsonValueKind.Number)
            {
                throw VaultException.Validation(ErrorCodes.TargetTypeMismatch, "The stored value is not a number.");
            }
        }

        if (operand.TryGetInt64(out var delta) && (currentDoc is null || current.TryGetInt64(out _)))
        {
            var start = currentDoc is null ? 0L : current.GetInt64();
            try
            {
                var result = negate ? checked(start - delta) : checked(start + delta);
                return result.ToString(CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                // Falls through to floating point, as JavaScript numbers would.
            }
        }

        var a = currentDoc is null ? 0d : current.GetDouble();
        var b = operand.GetDouble();
        var sum = negate ? a - b : a + b;
        if (double.IsInfinity(sum) || double.IsNaN(sum))
        {
            throw VaultException.Validation(ErrorCodes.OperandInvalid, "The result is not a finite number.");
        }

        return JsonSerializer.Serialize(sum);
    }

    private static string Push(string? currentJson, JsonElement body)
    {
        if (!body.TryGetProperty("value", out var value))
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, "'value' is required.");
        }

        var array = CurrentArray(currentJson);
        array.Add(JsonNode.Parse(value.GetRawText(), null, Deep));
        return array.ToJsonString(DeepWrite);
    }

    private static string Splice(string? currentJson, JsonElement body)
    {
        var array = CurrentArray(currentJson);
        var length = array.Count;
        var start = ReadInteger(body, "startIndex") ?? throw VaultException.Validation(ErrorCodes.OperandInvalid, "'startIndex' must be an integer.");
        var from = start < 0 ? Math.Max(length + start, 0) : Math.Min(start, length);
        // The server calls splice with all three arguments, so a missing deleteCount is 0 (as undefined is in JavaScript), never "the rest".
        var toDelete = Math.Clamp(ReadInteger(body, "deleteCount") ?? 0, 0, length - from);

        var inserted = new List<JsonNode?>();
        if (body.TryGetProperty("items", out var items) && items.ValueKind != JsonValueKind.Null)
        {
            if (items.ValueKind != JsonValueKind.Array)
            {
                throw VaultException.Validation(ErrorCodes.OperandInvalid, "'items' must be an array.");
            }

            inserted.AddRange(items.EnumerateArray().Select(i => JsonNode.Parse(i.GetRawText(), null, Deep)));
        }

        for (var i = 0; i < toDelete; i++)
        {
            array.RemoveAt((int)from);
        }

        for (var i = 0; i < inserted.Count; i++)
        {
            array.Insert((int)from + i, inserted[i]);
        }

        return array.ToJsonString(DeepWrite);
    }

    private static long? ReadInteger(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var number) && number == Math.Floor(number)
            && Math.Abs(number) < int.MaxValue)
        {
            return (long)number;
        }

        throw VaultException.Validation(ErrorCodes.OperandInvalid, $"'{name}' must be an integer.");
    }

    private static string Merge(string? currentJson, JsonElement body)
    {
        if (!body.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
        {
            throw VaultException.Validation(ErrorCodes.OperandInvalid, "'value' must be an object.");
        }

        var target = CurrentObject(currentJson);
        foreach (var property in value.EnumerateObject())
        {
            target[property.Name] = JsonNode.Parse(property.Value.GetRawText(), null, Deep);
        }

        return target.ToJsonString(DeepWrite);
    }

    private static string SetIn(string? currentJson, JsonElement body)
    {
        var path = ReadPath(body);
        if (!body.TryGetProperty("value", out var value))
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, "'value' is required.");
        }

        var root = CurrentObject(currentJson);
        JsonNode node = root;
        for (var i = 0; i < path.Count; i++)
        {
            var last = i == path.Count - 1;
            var segment = path[i];
            var newValue = last ? JsonNode.Parse(value.GetRawText(), null, Deep) : null;
            switch (node)
            {
                case JsonObject obj:
                    if (last)
                    {
                        obj[segment] = newValue;
                        break;
                    }

                    if (obj[segment] is not JsonObject and not JsonArray)
                    {
                        obj[segment] = new JsonObject();
                    }

                    node = obj[segment]!;
                    break;
                case JsonArray arr:
                    if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index > arr.Count)
                    {
                        throw VaultException.Validation(ErrorCodes.PathInvalid, "A path segment into an array must be an index within or just past its end.");
                    }

                    if (index == arr.Count)
                    {
                        arr.Add(last ? newValue : new JsonObject());
                    }
                    else if (last)
                    {
                        arr[index] = newValue;
                    }
                    else if (arr[index] is not JsonObject and not JsonArray)
                    {
                        arr[index] = new JsonObject();
                    }

                    if (!last)
                    {
                        node = arr[index]!;
                    }

                    break;
            }
        }

        return root.ToJsonString(DeepWrite);
    }

    private static List<string> ReadPath(JsonElement body)
    {
        if (!body.TryGetProperty("path", out var path))
        {
            throw VaultException.Validation(ErrorCodes.PathInvalid, "'path' is required.");
        }

        List<string> segments = path.ValueKind switch
        {
            JsonValueKind.String => [.. path.GetString()!.Split('.')],
            JsonValueKind.Array when path.EnumerateArray().All(e => e.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                => [.. path.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())],
            _ => throw VaultException.Validation(ErrorCodes.PathInvalid, "'path' must be a dotted string or an array of strings."),
        };

        if (segments.Count == 0 || segments.Any(string.IsNullOrEmpty) || segments.Count > 32)
        {
            throw VaultException.Validation(ErrorCodes.PathInvalid, "'path' needs 1-32 non-empty segments.");
        }

        if (segments.Any(s => s is "__proto__" or "constructor" or "prototype"))
        {
            throw VaultException.Validation(ErrorCodes.PathInvalid, "'path' may not name __proto__, constructor or prototype.");
        }

        return segments;
    }

    private static JsonArray CurrentArray(string? currentJson)
    {
        if (currentJson is null)
        {
            return [];
        }

        return JsonNode.Parse(currentJson, null, Deep) as JsonArray
            ?? throw VaultException.Validation(ErrorCodes.TargetTypeMismatch, "The stored value is not an array.");
    }

    private static JsonObject CurrentObject(string? currentJson)
    {
        if (currentJson is null)
        {
            return [];
        }

        return JsonNode.Parse(currentJson, null, Deep) as JsonObject
            ?? throw VaultException.Validation(ErrorCodes.TargetTypeMismatch, "The stored value is not an object.");
    }
}
