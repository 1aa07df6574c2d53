using OrleansVault.Channels;

namespace OrleansVault.Grains.Channels;

/// <summary>
/// Moving to the owner silo (<see cref="Placement.OwnerMove"/>): a channel with subscribers asks from its sweep, and
/// what lives only in memory travels with it (sockets and their feeds, feed leases, presence members, counts, the event
/// sequence), so the move is invisible to gateways, clients and webhooks.
/// </summary>
public sealed partial class ChannelGrain : IGrainMigrationParticipant
{
    private const string LiveStateKey = "ov.channel.live";

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(LiveStateKey, new LiveChannelState(
            [.. _sockets.Select(s => new LiveChannelSocket(s.Key, s.Value.Feed, s.Value.Member, s.Value.Passive))],
            [.. _feeds.Select(f => new LiveChannelFeed(f.Key, f.Value.ExpiresAt, f.Value.Sockets))],
            [.. _lapsedFeeds.Select(f => new LiveChannelFeed(f.Key, f.Value, 0))],
            [.. _members.Values.Select(m => new LiveChannelMember(m.Member, m.Sockets))],
            _subscriptions,
            _sequence,
            _lastAnnounce));
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (!rehydrationContext.TryGetValue<LiveChannelState>(LiveStateKey, out var live) || live is null)
        {
            return;
        }

        foreach (var socket in live.Sockets)
        {
            _sockets[socket.SocketId] = new SocketEntry(socket.Feed, socket.Member, socket.Passive);
        }

        foreach (var feed in live.Feeds)
        {
            _feeds[feed.Feed] = new FeedEntry { ExpiresAt = feed.ExpiresAt, Sockets = feed.Sockets };
        }

        foreach (var lapsed in live.Lapsed)
        {
            _lapsedFeeds[lapsed.Feed] = lapsed.ExpiresAt;
        }

        foreach (var member in live.Members)
        {
            _members[member.Member.UserId] = new MemberEntry(member.Member) { Sockets = member.Sockets };
        }

        _subscriptions = live.Subscriptions;
        _sequence = live.Sequence;
        _lastAnnounce = live.LastAnnounce;
    }
}

/// <summary>What of a channel lives only in memory, carried to its next activation when it moves silo.</summary>
[GenerateSerializer]
[Alias("ov.LiveChannelState")]
internal sealed record LiveChannelState(
    [property: Id(0)] List<LiveChannelSocket> Sockets,
    [property: Id(1)] List<LiveChannelFeed> Feeds,
    [property: Id(2)] List<LiveChannelFeed> Lapsed,
    [property: Id(3)] List<LiveChannelMember> Members,
    [property: Id(4)] int Subscriptions,
    [property: Id(5)] long Sequence,
    [property: Id(6)] long LastAnnounce);

[GenerateSerializer]
[Alias("ov.LiveChannelSocket")]
internal sealed record LiveChannelSocket(
    [property: Id(0)] string SocketId,
    [property: Id(1)] IChannelFeedObserver Feed,
    [property: Id(2)] ChannelMember? Member,
    [property: Id(3)] bool Passive);

/// <summary>A feed with its lease's end (for a lapsed feed: when it lapsed) and its sockets.</summary>
[GenerateSerializer]
[Alias("ov.LiveChannelFeed")]
internal sealed record LiveChannelFeed([property: Id(0)] IChannelFeedObserver Feed, [property: Id(1)] long ExpiresAt, [property: Id(2)] int Sockets);

[GenerateSerializer]
[Alias("ov.LiveChannelMember")]
internal sealed record LiveChannelMember([property: Id(0)] ChannelMember Member, [property: Id(1)] int Sockets);
