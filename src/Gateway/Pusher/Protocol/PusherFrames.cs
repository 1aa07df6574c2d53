using System.Buffers;
using System.Text;
using System.Text.Json;
using OrleansVault.Channels;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>
/// One frame a client sent: its event name, channel (client events) and data. <see cref="DataJson"/> is the data's raw
/// JSON (an object for <c>pusher:</c> events, anything for client events); <see cref="DataString"/> is set when the data
/// was a JSON string (some clients double-encode), holding the decoded text.
/// </summary>
public sealed record PusherIncomingFrame(string Event, string? Channel, string? DataJson, string? DataString);

/// <summary>Pure reader and writer of Pusher protocol 7 frames (no sockets).</summary>
public static class PusherFrames
{
    /// <summary>Reads a client frame; null when it is not a JSON object with a string <c>event</c>.</summary>
    public static PusherIncomingFrame? Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? name = null, channel = null, dataJson = null, dataString = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var property = reader.GetString();
                if (!reader.Read())
                {
                    return null;
                }

                switch (property)
                {
                    case "event" when reader.TokenType == JsonTokenType.String:
                        name = reader.GetString();
                        break;
                    case "channel" when reader.TokenType == JsonTokenType.String:
                        channel = reader.GetString();
                        break;
                    case "data":
                        var start = (int)reader.TokenStartIndex;
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            dataString = reader.GetString();
                        }

                        reader.Skip();
                        dataJson = Encoding.UTF8.GetString(utf8[start..(int)reader.BytesConsumed]);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return null;
            }

            return string.IsNullOrEmpty(name) ? null : new PusherIncomingFrame(name, channel, dataJson, dataString);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The <c>data</c> of a <c>pusher:</c> event as an object (a double-encoded string is decoded once).</summary>
    public static JsonElement? DataObject(PusherIncomingFrame frame)
    {
        var json = frame.DataString ?? frame.DataJson;
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A string property of a data object, or null when absent or not a string.</summary>
    public static string? StringProperty(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// A frame whose data is a JSON string (what the server sends for every event): <paramref name="data"/> is the text.
    /// <paramref name="userId"/> adds the sender of a client event on a presence channel.
    /// </summary>
    public static byte[] Event(string name, string? channel, string data, string? userId = null) =>
        Write(writer =>
        {
            writer.WriteString("event", name);
            if (channel is not null)
            {
                writer.WriteString("channel", channel);
            }

            writer.WriteString("data", data);
            if (userId is not null)
            {
                writer.WriteString("user_id", userId);
            }
        });

    /// <summary>A frame whose data is already JSON (relayed client events keep their shape).</summary>
    public static byte[] RawEvent(string name, string? channel, string dataJson, string? userId = null) =>
        Write(writer =>
        {
            writer.WriteString("event", name);
            if (channel is not null)
            {
                writer.WriteString("channel", channel);
            }

            writer.WritePropertyName("data");
            writer.WriteRawValue(dataJson, skipInputValidation: true);
            if (userId is not null)
            {
                writer.WriteString("user_id", userId);
            }
        });

    public static byte[] ConnectionEstablished(string socketId, int activityTimeoutSeconds) =>
        Event("pusher:connection_established", null, Json(w =>
        {
            w.WriteString("socket_id", socketId);
            w.WriteNumber("activity_timeout", activityTimeoutSeconds);
        }));

    /// <summary><c>pusher:error</c> with an object data <c>{code, message}</c>; a null code is written as null.</summary>
    public static byte[] Error(int? code, string message) =>
        Write(writer =>
        {
            writer.WriteString("event", "pusher:error");
            writer.WriteStartObject("data");
            if (code is { } c)
            {
                writer.WriteNumber("code", c);
            }
            else
            {
                writer.WriteNull("code");
            }

            writer.WriteString("message", message);
            writer.WriteEndObject();
        });

    /// <summary>An error about one channel; pusher-js routes it by the top-level channel (WIRE.md 2).</summary>
    public static byte[] SubscriptionError(string channel, string type, string error, int status) =>
        Write(writer =>
        {
            writer.WriteString("event", "pusher:subscription_error");
            writer.WriteString("channel", channel);
            writer.WriteStartObject("data");
            writer.WriteString("type", type);
            writer.WriteString("error", error);
            writer.WriteNumber("status", status);
            writer.WriteEndObject();
        });

    public static byte[] SubscriptionSucceeded(string channel, IReadOnlyCollection<ChannelMember>? members) =>
        Event("pusher_internal:subscription_succeeded", channel, members is null ? "{}" : PresenceData(members));

    public static string PresenceData(IReadOnlyCollection<ChannelMember> members) => Json(w =>
    {
        w.WriteStartObject("presence");
        w.WriteStartArray("ids");
        foreach (var m in members)
        {
            w.WriteStringValue(m.UserId);
        }

        w.WriteEndArray();
        w.WriteStartObject("hash");
        foreach (var m in members)
        {
            w.WritePropertyName(m.UserId);
            if (m.UserInfoJson is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(m.UserInfoJson, skipInputValidation: true);
            }
        }

        w.WriteEndObject();
        w.WriteNumber("count", members.Count);
        w.WriteEndObject();
    });

    public static byte[] MemberAdded(string channel, ChannelMember member) =>
        Event("pusher_internal:member_added", channel, Json(w =>
        {
            w.WriteString("user_id", member.UserId);
            w.WritePropertyName("user_info");
            if (member.UserInfoJson is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(member.UserInfoJson, skipInputValidation: true);
            }
        }));

    public static byte[] MemberRemoved(string channel, string userId) =>
        Event("pusher_internal:member_removed", channel, Json(w => w.WriteString("user_id", userId)));

    public static byte[] SubscriptionCount(string channel, int count) =>
        Event("pusher_internal:subscription_count", channel, Json(w => w.WriteNumber("subscription_count", count)));

    public static byte[] CacheMiss(string channel) => Event("pusher:cache_miss", channel, "{}");

    /// <summary><c>pusher:signin_success</c>: data is an object (not a string) holding the signed user data.</summary>
    public static byte[] SignInSuccess(string userData) =>
        Write(writer =>
        {
            writer.WriteString("event", "pusher:signin_success");
            writer.WriteStartObject("data");
            writer.WriteString("user_data", userData);
            writer.WriteEndObject();
        });

    public static byte[] Pong() => Event("pusher:pong", null, "{}");

    public static byte[] Ping() => Event("pusher:ping", null, "{}");

    /// <summary>Writes a small JSON object to text.</summary>
    public static string Json(Action<Utf8JsonWriter> body) => Encoding.UTF8.GetString(Write(body));

    // Frames go to WebSocket clients, never into HTML: escape only what JSON requires, so a string data field reads
    // {\"a\":1} as Pusher's own service sends it, not {\u0022a\u0022:1}.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
