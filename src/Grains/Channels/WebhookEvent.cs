using OrleansVault.Channels;

namespace OrleansVault.Grains.Channels;

/// <summary>
/// One Pusher webhook event (<c>channel_occupied</c>, <c>channel_vacated</c>, <c>member_added</c>,
/// <c>member_removed</c>, <c>client_event</c>, <c>subscription_count</c>, <c>cache_miss</c>) with when it happened.
/// </summary>
[GenerateSerializer]
[Alias("ov.WebhookEvent")]
public sealed record WebhookEvent(
    [property: Id(0)] string Name,
    [property: Id(1)] string Channel,
    [property: Id(2)] string? Event = null,
    [property: Id(3)] string? Data = null,
    [property: Id(4)] bool DataIsJson = false,
    [property: Id(5)] string? SocketId = null,
    [property: Id(6)] string? UserId = null,
    [property: Id(7)] int? SubscriptionCount = null,
    [property: Id(8)] long TimeMs = 0)
{
    public static WebhookEvent ChannelOccupied(string channel) => new("channel_occupied", channel);

    public static WebhookEvent ChannelVacated(string channel) => new("channel_vacated", channel);

    public static WebhookEvent MemberAdded(string channel, string userId) => new("member_added", channel, UserId: userId);

    public static WebhookEvent MemberRemoved(string channel, string userId) => new("member_removed", channel, UserId: userId);

    public static WebhookEvent SubscriptionCountChanged(string channel, int count) => new("subscription_count", channel, SubscriptionCount: count);

    public static WebhookEvent CacheMiss(string channel) => new("cache_miss", channel);

    public static WebhookEvent ClientEvent(string channel, string eventName, string data, bool dataIsJson, string? socketId, string? userId) =>
        new("client_event", channel, eventName, data, dataIsJson, socketId, userId);
}

/// <summary>Where channels hand their webhook events: a durable outbox that delivers them later (implemented by the host).</summary>
public interface IChannelWebhooks
{
    /// <summary>Stores the event durably for every target of the app that wants it; returns once it is stored.</summary>
    Task EnqueueAsync(PusherApp app, WebhookEvent e);
}
