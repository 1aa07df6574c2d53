using System.Text.Json;
using OrleansVault.Channels;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>
/// Reads presence <c>channel_data</c> (<c>{"user_id":…, "user_info":…}</c>) and sign-in <c>user_data</c>
/// (<c>{"id":…, …}</c>): both are JSON strings the app's backend signed, so they are read exactly as signed.
/// </summary>
public static class PusherUserData
{
    /// <summary>Parses presence channel data; null with <paramref name="problem"/> set when it is not usable.</summary>
    public static ChannelMember? ParseChannelData(string channelData, int maxUserInfoBytes, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(channelData);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("user_id", out var idElement))
            {
                problem = "channel_data must be a JSON object with a user_id";
                return null;
            }

            // pusher-js and the pusher SDK pass user ids through as given; numbers are common in the wild.
            var id = idElement.ValueKind switch
            {
                JsonValueKind.String => idElement.GetString(),
                JsonValueKind.Number => idElement.GetRawText(),
                _ => null,
            };
            if (!PusherChannelName.IsValidUserId(id))
            {
                problem = $"user_id must be a non-empty string of at most {PusherChannelName.MaxUserIdLength} characters";
                return null;
            }

            string? info = null;
            if (root.TryGetProperty("user_info", out var infoElement) && infoElement.ValueKind != JsonValueKind.Null)
            {
                info = infoElement.GetRawText();
                if (System.Text.Encoding.UTF8.GetByteCount(info) > maxUserInfoBytes)
                {
                    problem = $"user_info must be at most {maxUserInfoBytes} bytes";
                    return null;
                }
            }

            return new ChannelMember(id!, info);
        }
        catch (JsonException)
        {
            problem = "channel_data is not valid JSON";
            return null;
        }
    }

    /// <summary>Parses sign-in user data: a JSON object with a non-empty string <c>id</c> (WIRE.md 2).</summary>
    public static string? ParseSignInUserId(string userData, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(userData);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("id", out var id)
                && id.ValueKind == JsonValueKind.String
                && PusherChannelName.IsValidUserId(id.GetString()))
            {
                return id.GetString();
            }

            problem = "user_data must be a JSON object with a non-empty string id";
            return null;
        }
        catch (JsonException)
        {
            problem = "user_data is not valid JSON";
            return null;
        }
    }
}
