using Orleans.Concurrency;

namespace OrleansVault.Channels;

/// <summary>What a channel pushes to the gateways that relay it.</summary>
public enum ChannelEventKind
{
    /// <summary>An event from the REST API or a client (<c>client-*</c>).</summary>
    Event = 0,
    MemberAdded = 1,
    MemberRemoved = 2,
    SubscriptionCount = 3,

    /// <summary>Close every socket of this (user) channel: REST <c>terminate_connections</c>.</summary>
    Terminate = 4,
}

/// <summary>
/// One channel event. <see cref="Data"/> is the event's data: text for REST events, raw JSON for client events
/// (<see cref="DataIsJson"/>). <see cref="UserId"/> names the member (member events) or the sender of a client event on a
/// presence channel; <see cref="ExcludedSocketId"/> the one socket that must not receive it.
/// </summary>
[GenerateSerializer]
[Alias("ov.ChannelEvent")]
public sealed record ChannelEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ChannelEventKind Kind,
    [property: Id(2)] string? Name,
    [property: Id(3)] string? Data,
    [property: Id(4)] bool DataIsJson,
    [property: Id(5)] string? UserId,
    [property: Id(6)] string? UserInfoJson,
    [property: Id(7)] string? ExcludedSocketId,
    [property: Id(8)] int Count = 0);

[GenerateSerializer]
[Alias("ov.ChannelEventBatch")]
public sealed record ChannelEventBatch([property: Id(0)] IReadOnlyList<ChannelEvent> Events);

/// <summary>A gateway's feed of one channel: the channel pushes every batch to it, one-way.</summary>
[Alias("ov.IChannelFeedObserver")]
public interface IChannelFeedObserver : IGrainObserver
{
    [OneWay]
    [Alias("OnEvents")]
    Task OnEvents(ChannelEventBatch batch);
}

/// <summary>A presence member: user id and raw JSON <c>user_info</c>.</summary>
[GenerateSerializer]
[Alias("ov.ChannelMember")]
public sealed record ChannelMember(
    [property: Id(0)] string UserId,
    [property: Id(1)] string? UserInfoJson);

/// <summary>One socket's subscription as a gateway holds it (also what it restores after the channel reactivated).</summary>
[GenerateSerializer]
[Alias("ov.ChannelSubscription")]
public sealed record ChannelSubscription(
    [property: Id(0)] string SocketId,
    [property: Id(1)] ChannelMember? Member,
    [property: Id(2)] bool Passive = false);

/// <summary>The last event of a cache channel and when it expires.</summary>
[GenerateSerializer]
[Alias("ov.CachedChannelEvent")]
public sealed record CachedChannelEvent(
    [property: Id(0)] string Name,
    [property: Id(1)] string Data,
    [property: Id(2)] bool DataIsJson,
    [property: Id(3)] long ExpiresAt);

/// <summary>The answer to a subscription: refused (with the reason), or the members and the cached event.</summary>
[GenerateSerializer]
[Alias("ov.ChannelSubscribeResult")]
public sealed record ChannelSubscribeResult(
    [property: Id(0)] string? Refusal,
    [property: Id(1)] IReadOnlyList<ChannelMember>? Members,
    [property: Id(2)] CachedChannelEvent? Cached,
    [property: Id(3)] int SubscriptionCount);

/// <summary>What the REST API reports about a channel.</summary>
[GenerateSerializer]
[Alias("ov.ChannelInfo")]
public sealed record ChannelInfo(
    [property: Id(0)] bool Occupied,
    [property: Id(1)] int SubscriptionCount,
    [property: Id(2)] int UserCount);

/// <summary>An event to publish on a channel.</summary>
[GenerateSerializer]
[Alias("ov.ChannelPublish")]
public sealed record ChannelPublish(
    [property: Id(0)] string Name,
    [property: Id(1)] string Data,
    [property: Id(2)] bool DataIsJson,
    [property: Id(3)] string? ExcludedSocketId,
    [property: Id(4)] string? UserId,
    [property: Id(5)] bool FromClient);

/// <summary>
/// One Pusher channel of one app: its subscribed sockets (by gateway feed), presence members (each user once however
/// many sockets), the cache channel's last event. Key: <c>{appId}/{channel name}</c>.
/// </summary>
[Alias("ov.IChannelGrain")]
public interface IChannelGrain : IGrainWithStringKey
{
    /// <summary>Adds a socket (relayed by <paramref name="feed"/>); a presence subscription brings its member.</summary>
    [Alias("Subscribe")]
    Task<ChannelSubscribeResult> Subscribe(IChannelFeedObserver feed, ChannelSubscription subscription);

    [Alias("Unsubscribe")]
    Task Unsubscribe(string socketId);

    /// <summary>Renews a gateway feed's lease; false when the channel did not know it (it reactivated): restore then.</summary>
    [Alias("RenewFeed")]
    Task<bool> RenewFeed(IChannelFeedObserver feed);

    /// <summary>Re-registers a gateway's sockets after the channel lost them (reactivation), without member events for known users.</summary>
    [Alias("Restore")]
    Task Restore(IChannelFeedObserver feed, IReadOnlyList<ChannelSubscription> subscriptions);

    [Alias("Publish")]
    Task<ChannelInfo> Publish(ChannelPublish publish);

    [Alias("GetInfo")]
    Task<ChannelInfo> GetInfo();

    [Alias("GetUserIds")]
    Task<IReadOnlyList<string>> GetUserIds();

    /// <summary>Closes every socket subscribed (or signed in) on this channel: used on a user's channel.</summary>
    [Alias("Terminate")]
    Task Terminate();
}

/// <summary>The occupied channels of one app (key: app id), announced by the channels themselves and expiring unless renewed.</summary>
[Alias("ov.IChannelIndexGrain")]
public interface IChannelIndexGrain : IGrainWithStringKey
{
    [OneWay]
    [Alias("Announce")]
    Task Announce(string channel, bool occupied);

    [Alias("List")]
    Task<IReadOnlyList<string>> List(string? prefix);
}
