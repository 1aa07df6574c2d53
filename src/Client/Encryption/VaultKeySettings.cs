using System.Text.Json;

namespace OrleansVault.Client.Encryption;

/// <summary>One key version of an object, as the server sends it: <c>{salt (standard base64), keyVersion, createdAt}</c>.</summary>
public sealed record VaultKeySettings(string Salt, int KeyVersion, long CreatedAt);

/// <summary>
/// An object's encryption settings, the answer of <c>POST cache-encryption/{class}/{id}</c> (and of
/// <c>cache-encryption-rotate</c>): the current key version and the previous ones still readable.
/// </summary>
public sealed record VaultKeySettingsInfo(VaultKeySettings Current, IReadOnlyList<VaultKeySettings> Previous)
{
    /// <summary>Reads <c>{"encryptionSettings":{…},"previousEncryptionSettings":[…]}</c> from its JSON text.</summary>
    public static VaultKeySettingsInfo Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new VaultEncryptionException(EncryptionErrorCodes.SettingsInvalid, "The encryption settings are not JSON.", e);
        }
    }

    /// <summary>Reads <c>{"encryptionSettings":{…},"previousEncryptionSettings":[…]}</c>.</summary>
    public static VaultKeySettingsInfo FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("encryptionSettings", out var current))
        {
            throw Invalid("The encryption settings have no \"encryptionSettings\" object.");
        }

        var previous = new List<VaultKeySettings>();
        if (json.TryGetProperty("previousEncryptionSettings", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("\"previousEncryptionSettings\" is not an array.");
            }

            foreach (var item in list.EnumerateArray())
            {
                previous.Add(ReadOne(item));
            }
        }

        return new VaultKeySettingsInfo(ReadOne(current), previous);
    }

    private static VaultKeySettings ReadOne(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object
            || !json.TryGetProperty("salt", out var salt) || salt.ValueKind != JsonValueKind.String
            || !json.TryGetProperty("keyVersion", out var version) || version.ValueKind != JsonValueKind.Number
            || !version.TryGetInt32(out var keyVersion))
        {
            throw Invalid("An encryption setting lacks a string \"salt\" or an integer \"keyVersion\".");
        }

        var createdAt = json.TryGetProperty("createdAt", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var at) ? at : 0;
        return new VaultKeySettings(salt.GetString()!, keyVersion, createdAt);
    }

    private static VaultEncryptionException Invalid(string message) => new(EncryptionErrorCodes.SettingsInvalid, message);
}
