using OrleansVault.Channels;

namespace OrleansVault.Gateway.Pusher;

/// <summary>A webhook target in configuration: URL and the event names it wants (none: all).</summary>
public sealed class PusherWebhookOptions
{
    public string Url { get; set; } = "";

    public List<string> Events { get; set; } = [];
}

/// <summary>The Pusher app declared in configuration (<c>Vault:Bootstrap:Pusher</c>); none declared leaves the Pusher door without apps.</summary>
public sealed class PusherAppOptions
{
    public const string Section = "Vault:Bootstrap:Pusher";

    public string? AppId { get; set; }

    public string? Key { get; set; }

    public string? Secret { get; set; }

    /// <summary>Whether clients may send <c>client-*</c> events on private and presence channels.</summary>
    public bool ClientEvents { get; set; } = true;

    /// <summary>Whether a connection must sign in or subscribe to a private/presence channel within <see cref="PusherSocketOptions.AuthorizationTimeout"/>.</summary>
    public bool AuthorizedConnections { get; set; }

    /// <summary>Opt-in: refuse a signed REST request identical to one already seen within the timestamp window.</summary>
    public bool ReplayProtection { get; set; }

    /// <summary>Send <c>pusher_internal:subscription_count</c> on non-presence channels (off by default, as in Pusher).</summary>
    public bool SubscriptionCount { get; set; }

    /// <summary>The most members a presence channel holds (Pusher's own cap is 100).</summary>
    public int MaxPresenceMembers { get; set; } = 1000;

    /// <summary>The most authorized connections of this app on one gateway (none: only the node's limits).</summary>
    public int? MaxConnections { get; set; }

    public List<PusherWebhookOptions> Webhooks { get; set; } = [];

    public bool IsDeclared => !string.IsNullOrEmpty(AppId) || !string.IsNullOrEmpty(Key) || !string.IsNullOrEmpty(Secret);

    public PusherApp ToApp() => new(
        AppId!,
        Key!,
        System.Text.Encoding.UTF8.GetBytes(Secret!),
        ClientEvents,
        AuthorizedConnections,
        ReplayProtection,
        SubscriptionCount,
        MaxPresenceMembers,
        Enabled: true,
        [.. Webhooks.Select(w => new PusherWebhookTarget(w.Url, [.. w.Events]))],
        MaxConnections);

    /// <summary>What is wrong with the declaration, or null.</summary>
    public string? Problem()
    {
        if (!IsDeclared)
        {
            return null;
        }

        if (string.IsNullOrEmpty(AppId) || AppId.Length > 64 || !AppId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            return "Vault:Bootstrap:Pusher:AppId must be 1-64 of A-Z a-z 0-9 _ -.";
        }

        if (string.IsNullOrEmpty(Key) || Key.Length > 64 || !Key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            return "Vault:Bootstrap:Pusher:Key must be 1-64 of A-Z a-z 0-9 _ - .";
        }

        if (Secret is not { Length: >= 16 })
        {
            return "Vault:Bootstrap:Pusher:Secret must be at least 16 characters.";
        }

        if (MaxPresenceMembers < 1 || MaxConnections is < 1)
        {
            return "Vault:Bootstrap:Pusher:MaxPresenceMembers and MaxConnections must be positive.";
        }

        return Webhooks.Any(w => !Uri.TryCreate(w.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            ? "Vault:Bootstrap:Pusher:Webhooks: every Url must be an absolute http(s) URL."
            : null;
    }
}

/// <summary>The Pusher door's connection and request limits (<c>Vault:Pusher</c>).</summary>
public sealed class PusherSocketOptions
{
    public const string Section = "Vault:Pusher";

    /// <summary>The <c>activity_timeout</c> told to clients (seconds of silence before they ping); the server pings after the same silence.</summary>
    public int ActivityTimeoutSeconds { get; set; } = 120;

    /// <summary>How long a server ping may go unanswered before the socket is closed with 4201.</summary>
    public TimeSpan PongTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>With authorized connections on: how long a connection may stay unauthorized before it is closed with 4009.</summary>
    public TimeSpan AuthorizationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Client events a connection may send per second (Pusher: 10); more get error 4301.</summary>
    public double ClientEventsPerSecond { get; set; } = 10;

    /// <summary>The most bytes of an event's data (Pusher: 10 KB), for REST and client events.</summary>
    public int MaxEventBytes { get; set; } = 10 * 1024;

    /// <summary>The largest frame a client may send; a bigger one closes the socket (1009).</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    public int MaxChannelsPerEvent { get; set; } = 100;

    public int MaxEventsPerBatch { get; set; } = 10;

    public int MaxEventNameLength { get; set; } = 200;

    /// <summary>How far a signed REST request's <c>auth_timestamp</c> may be from the server's clock.</summary>
    public TimeSpan RestTimestampWindow { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>The most bytes of a presence member's <c>user_info</c> (Pusher: 1 KB).</summary>
    public int MaxUserInfoBytes { get; set; } = 1024;

    /// <summary>The most channels one connection may subscribe to.</summary>
    public int MaxChannelsPerConnection { get; set; } = 1000;
}
