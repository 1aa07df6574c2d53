using System.Buffers;
using System.Text.Json;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>Writes items, events and presence in the Vaultrice wire shapes (WIRE.md 1.1 and 1.6).</summary>
public static class VaultriceJson
{
    public static void WriteItem(Utf8JsonWriter writer, ItemView item)
    {
        writer.WriteStartObject();
        WriteItemFields(writer, item);
        writer.WriteEndObject();
    }

    public static void WriteItemMap(Utf8JsonWriter writer, IReadOnlyDictionary<string, ItemView> items)
    {
        writer.WriteStartObject();
        foreach (var (key, item) in items)
        {
            writer.WritePropertyName(key);
            WriteItem(writer, item);
        }

        writer.WriteEndObject();
    }

    public static void WritePresence(Utf8JsonWriter writer, IReadOnlyList<PresenceEntry> entries)
    {
        writer.WriteStartArray();
        foreach (var entry in entries)
        {
            writer.WriteStartObject();
            writer.WriteString("connectionId", entry.ConnectionId);
            writer.WriteNumber("joinedAt", entry.JoinedAt);
            writer.WritePropertyName("data");
            writer.WriteRawValue(entry.DataJson, skipInputValidation: true);
            if (entry.KeyVersion is { } version)
            {
                writer.WriteNumber("keyVersion", version);
            }

            if (entry.VerifiedUserId is { } userId)
            {
                writer.WriteString("verifiedUserId", userId);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static void WriteEncryptionSettings(Utf8JsonWriter writer, EncryptionSettingsInfo info)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("encryptionSettings");
        WriteSettings(writer, info.Current);
        writer.WriteStartArray("previousEncryptionSettings");
        foreach (var previous in info.Previous)
        {
            WriteSettings(writer, previous);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The socket frame of one event.</summary>
    public static byte[] EventFrame(ObjectEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            switch (e.Kind)
            {
                case ObjectEventKind.SetItem:
                    writer.WriteString("event", "setItem");
                    writer.WriteStartObject("payload");
                    writer.WriteString("prop", e.Key);
                    WriteItemFields(writer, e.Item!);
                    writer.WriteEndObject();
                    break;
                case ObjectEventKind.RemoveItem:
                    writer.WriteString("event", "removeItem");
                    writer.WriteStartObject("payload");
                    writer.WriteString("prop", e.Key);
                    writer.WriteEndObject();
                    break;
                case ObjectEventKind.Message:
                    writer.WriteString("event", "message");
                    writer.WritePropertyName("payload");
                    writer.WriteRawValue(e.PayloadJson!, skipInputValidation: true);
                    WriteKeyVersion(writer, e.KeyVersion);
                    break;
                case ObjectEventKind.PresenceJoin:
                case ObjectEventKind.PresenceLeave:
                    writer.WriteString("event", e.Kind == ObjectEventKind.PresenceJoin ? "presence:join" : "presence:leave");
                    writer.WriteString("connectionId", e.ConnectionId);
                    writer.WriteNumber("joinedAt", e.JoinedAt);
                    writer.WritePropertyName("payload");
                    writer.WriteRawValue(e.PayloadJson!, skipInputValidation: true);
                    WriteKeyVersion(writer, e.KeyVersion);
                    if (e.VerifiedUserId is { } userId)
                    {
                        // Set only by a gateway that verified the joiner (WIRE 1.7): others can trust it, unlike payload fields.
                        writer.WriteString("verifiedUserId", userId);
                    }
                    break;
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A control frame such as <c>{"event":"connected","connectionId":…}</c>.</summary>
    public static byte[] ControlFrame(string eventName, string? connectionId = null, string? payload = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", eventName);
            if (connectionId is not null)
            {
                writer.WriteString("connectionId", connectionId);
            }

            if (payload is not null)
            {
                writer.WriteString("payload", payload);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteItemFields(Utf8JsonWriter writer, ItemView item)
    {
        writer.WritePropertyName("value");
        writer.WriteRawValue(item.ValueJson, skipInputValidation: true);
        writer.WriteNumber("createdAt", item.CreatedAt);
        writer.WriteNumber("updatedAt", item.UpdatedAt);
        writer.WriteNumber("expiresAt", item.ExpiresAt);
        WriteKeyVersion(writer, item.KeyVersion);
    }

    private static void WriteKeyVersion(Utf8JsonWriter writer, int? keyVersion)
    {
        // Omitted, never null: the SDK's "keyVersion > -1" checks treat 0 as encrypted.
        if (keyVersion is { } version)
        {
            writer.WriteNumber("keyVersion", version);
        }
    }

    private static void WriteSettings(Utf8JsonWriter writer, EncryptionSettings settings)
    {
        writer.WriteStartObject();
        writer.WriteString("salt", settings.Salt);
        writer.WriteNumber("keyVersion", settings.KeyVersion);
        writer.WriteNumber("createdAt", settings.CreatedAt);
        writer.WriteEndObject();
    }
}
