using System.Text.Json;

namespace OrleansVault.Gateway.Pusher.Protocol;

/// <summary>A presence member or signed-in user: its id and its <c>user_info</c> as raw JSON (null when absent).</summary>
public sealed record PusherMember(string UserId, string? UserInfoJson);

/// <summary>
/// Reads presence <c>channel_data</c> (<c>{"user_id":…, "user_info":…}</c>) and sign-in <c>user_data</c>
/// (<c>{"id":…, …}</c>): both are JSON strings the app's backend signed, so they are read exactly as signed.
/// </summary>
public static class PusherUserData
{
    /// <summary>Longest user id accepted (Pusher documents 128).</summary>
    public const int MaxUserIdLength = 128;

    public static bool IsValidUserId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxUserIdLength && !id.Any(char.IsControl);

    /// <summary>Parses presence channel data; null with <paramref name="problem"/> set when it is not usable.</summary>
    public static PusherMember? ParseChannelData(string channelData, int maxUserInfoBytes, out string? problem)
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
            if (!IsValidUserId(id))
            {
                problem = $"user_id must be a non-empty string of at most {MaxUserIdLength} characters";
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

            return new PusherMember(id!, info);
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
                && IsValidUserId(id.GetString()))
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
