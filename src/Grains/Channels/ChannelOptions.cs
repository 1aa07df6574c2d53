namespace OrleansVault.Grains.Channels;

/// <summary>Channel grain settings (<c>Vault:Channels</c>).</summary>
public sealed class ChannelOptions
{
    public const string Section = "Vault:Channels";

    /// <summary>
    /// How long a gateway's feed (and with it its sockets and their presence) stays without renewing. A dead gateway's
    /// members are removed within this bound; gateways renew at <c>Vault:WebSockets:FeedRenewInterval</c>.
    /// </summary>
    public TimeSpan FeedLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a cache channel keeps its last event (Pusher: 30 minutes).</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often an occupied channel re-announces itself to its app's channel index (entries expire after three).</summary>
    public TimeSpan IndexRefresh { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Subscription-count changes within this interval go out as one <c>pusher_internal:subscription_count</c>.</summary>
    public TimeSpan SubscriptionCountInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a channel grain trusts its copy of the app's settings.</summary>
    public TimeSpan AppCacheTtl { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The stored part of a channel: a cache channel's last event.</summary>
[GenerateSerializer]
[Alias("ov.ChannelState")]
public sealed class ChannelState
{
    [Id(0)]
    public OrleansVault.Channels.CachedChannelEvent? Cached { get; set; }
}
