namespace OrleansVault.Channels;

/// <summary>What a channel's name prefix makes it (Pusher channel types).</summary>
public enum PusherChannelKind
{
    Public,
    Private,
    Presence,
    PrivateEncrypted,

    /// <summary><c>#server-to-user-{id}</c>: a signed-in user's own channel, reserved.</summary>
    User,
}

/// <summary>Pusher channel-name rules: allowed characters, length, type prefixes and the cache flavour.</summary>
public static class PusherChannelName
{
    /// <summary>Pusher's documented limit (the <c>pusher</c> SDK allows 200; WIRE.md 2 holds us to 164).</summary>
    public const int MaxLength = 164;

    public const string UserPrefix = "#server-to-user-";

    /// <summary>Whether <paramref name="name"/> is a channel a client or the REST API may name.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        if (name.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            return IsValidUserId(name[UserPrefix.Length..]);
        }

        foreach (var c in name)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    public static PusherChannelKind KindOf(string name) => name switch
    {
        _ when name.StartsWith(UserPrefix, StringComparison.Ordinal) => PusherChannelKind.User,
        _ when name.StartsWith("private-encrypted-", StringComparison.Ordinal) => PusherChannelKind.PrivateEncrypted,
        _ when name.StartsWith("private-", StringComparison.Ordinal) => PusherChannelKind.Private,
        _ when name.StartsWith("presence-", StringComparison.Ordinal) => PusherChannelKind.Presence,
        _ => PusherChannelKind.Public,
    };

    /// <summary>Cache channels keep their last event: <c>cache-</c>, <c>private-cache-</c>, <c>private-encrypted-cache-</c>, <c>presence-cache-</c>.</summary>
    public static bool IsCache(string name) =>
        name.StartsWith("cache-", StringComparison.Ordinal)
        || name.StartsWith("private-cache-", StringComparison.Ordinal)
        || name.StartsWith("private-encrypted-cache-", StringComparison.Ordinal)
        || name.StartsWith("presence-cache-", StringComparison.Ordinal);

    /// <summary>Private, presence and encrypted channels need a signed authorization to subscribe.</summary>
    public static bool NeedsAuthorization(PusherChannelKind kind) =>
        kind is PusherChannelKind.Private or PusherChannelKind.Presence or PusherChannelKind.PrivateEncrypted;

    /// <summary>Longest user id accepted (Pusher documents 128).</summary>
    public const int MaxUserIdLength = 128;

    public static bool IsValidUserId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxUserIdLength && !id.Any(char.IsControl);

    /// <summary>The user channel of <paramref name="userId"/>.</summary>
    public static string UserChannel(string userId) => UserPrefix + userId;

    private static bool IsAllowed(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '=' or '@' or ',' or '.' or ';';
}
