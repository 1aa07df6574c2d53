using System.Collections.Concurrent;
using OrleansVault.Channels;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// Per-gateway channel fan-out: one feed per channel with sockets here. The channel grain pushes each event once to the
/// feed (a one-way grain-observer call); the feed renders the frame once and hands it to its sockets.
/// </summary>
public sealed class ChannelFeeds(IClusterClient client, ChannelReferences channels, Microsoft.Extensions.Options.IOptions<Options.SocketOptions> options, ILogger<ChannelFeeds> logger)
{
    private readonly ConcurrentDictionary<string, ChannelFeed> _feeds = new(StringComparer.Ordinal);

    public int ActiveFeeds => _feeds.Count;

    /// <summary>
    /// Subscribes <paramref name="connection"/> to a channel: its events are held until the caller releases them after
    /// <c>subscription_succeeded</c>. A refused subscription (full presence channel) leaves nothing behind.
    /// </summary>
    public async Task<(ChannelFeed? Feed, ChannelSubscribeResult Result)> SubscribeAsync(
        string appId, string channel, PusherConnection connection, ChannelSubscription subscription)
    {
        var key = $"{appId}/{channel}";
        while (true)
        {
            var feed = _feeds.GetOrAdd(key, k => new ChannelFeed(k, channel, client, logger, this));
            var (added, result) = await feed.TryAddAsync(connection, subscription);
            if (added)
            {
                return (result.Refusal is null ? feed : null, result!);
            }

            // The feed closed between lookup and add; it removes itself, so the next lookup makes a new one.
            _feeds.TryRemove(new KeyValuePair<string, ChannelFeed>(key, feed));
        }
    }

    public Task RenewAllAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            _feeds.Values,
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (feed, _) => await feed.RenewAsync(options.Value.FeedRenewTimeout));

    /// <summary>Where the feeds' calls go (observers stay on the main client; calls may be routed straight to the channel's silo).</summary>
    internal ChannelReferences Channels => channels;

    internal void Forget(ChannelFeed feed) => _feeds.TryRemove(new KeyValuePair<string, ChannelFeed>(feed.GrainKey, feed));
}

/// <summary>One channel's subscription on this gateway and the sockets it serves.</summary>
public sealed class ChannelFeed : IChannelFeedObserver
{
    private readonly IClusterClient _client;
    private readonly ILogger _logger;
    private readonly ChannelFeeds _owner;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly bool _presence;
    private Entry[] _entries = [];
    private IChannelFeedObserver? _reference;
    private bool _closed;

    internal ChannelFeed(string grainKey, string channel, IClusterClient client, ILogger logger, ChannelFeeds owner)
    {
        GrainKey = grainKey;
        Channel = channel;
        _client = client;
        _logger = logger;
        _owner = owner;
        _presence = PusherChannelName.KindOf(channel) == PusherChannelKind.Presence;
    }

    public string GrainKey { get; }

    public string Channel { get; }

    private IChannelGrain Grain => _owner.Channels.Get(GrainKey);

    internal async Task<(bool Added, ChannelSubscribeResult Result)> TryAddAsync(PusherConnection connection, ChannelSubscription subscription)
    {
        IChannelFeedObserver? toDelete = null;
        await _gate.WaitAsync();
        try
        {
            if (_closed)
            {
                return (false, null!);
            }

            var reference = _reference ??= _client.CreateObjectReference<IChannelFeedObserver>(this);
            var entry = new Entry(connection, subscription);

            // Listed before the grain call, so no event after the subscription is missed; the connection holds them.
            connection.Hold(Channel);
            _entries = [.. _entries, entry];
            ChannelSubscribeResult result;
            try
            {
                result = await Grain.Subscribe(reference, subscription);
            }
            catch
            {
                Drop(entry);
                connection.Release(Channel, [], keep: false);

                // The grain may have added the socket before the call failed (a timeout): take it back, best effort.
                try
                {
                    await Grain.Unsubscribe(connection.SocketId);
                }
                catch (Exception error) when (error is not OutOfMemoryException)
                {
                    GatewayLog.FeedFailed(_logger, GrainKey, error.GetType().Name);
                }

                if (_entries.Length == 0)
                {
                    _closed = true;
                    toDelete = _reference;
                    _owner.Forget(this);
                }

                throw;
            }

            if (result.Refusal is not null)
            {
                Drop(entry);
                connection.Release(Channel, [], keep: false);
                if (_entries.Length == 0)
                {
                    // Nobody here listens to this channel after all: no feed to keep renewing.
                    _closed = true;
                    toDelete = _reference;
                    _owner.Forget(this);
                }
            }

            return (true, result);
        }
        finally
        {
            _gate.Release();
            if (toDelete is not null)
            {
                ObserverRelease.Later(_client, toDelete);
            }
        }
    }

    /// <summary>A signed-in socket now also listens to its user channel's events (pusher-js subscribes it after sign-in).</summary>
    public void Activate(PusherConnection connection)
    {
        foreach (var entry in _entries)
        {
            if (ReferenceEquals(entry.Connection, connection))
            {
                entry.Listening = true;
            }
        }
    }

    public async Task RemoveAsync(PusherConnection connection)
    {
        IChannelFeedObserver? toDelete = null;
        Entry? removed;
        await _gate.WaitAsync();
        try
        {
            removed = Array.Find(_entries, e => ReferenceEquals(e.Connection, connection));
            if (removed is null)
            {
                return;
            }

            Drop(removed);
            try
            {
                await Grain.Unsubscribe(connection.SocketId);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The channel's feed lease removes the socket on its own.
                GatewayLog.FeedFailed(_logger, GrainKey, error.GetType().Name);
            }

            if (_entries.Length == 0 && !_closed)
            {
                _closed = true;
                toDelete = _reference;
                _owner.Forget(this);
            }
        }
        finally
        {
            _gate.Release();
        }

        if (toDelete is not null)
        {
            // One-way pushes sent before the unsubscribe may still be on their way: let them land on the emptied feed
            // rather than on a deleted reference (which the runtime logs as an error).
            ObserverRelease.Later(_client, toDelete);
        }
    }

    /// <summary>Renews the feed's lease; a channel that reactivated (or dropped the feed for a lapsed lease) gets its sockets back.</summary>
    internal async Task RenewAsync(TimeSpan timeout)
    {
        var reference = _reference;
        if (reference is null || _closed)
        {
            return;
        }

        try
        {
            // Bounded, so a channel on a dead silo does not hold up the other renewals past their leases.
            if (!await Grain.RenewFeed(reference).WaitAsync(timeout))
            {
                // Under the gate, so a socket being removed right now is not restored.
                await _gate.WaitAsync();
                try
                {
                    if (!_closed)
                    {
                        await Grain.Restore(reference, [.. _entries.Select(e => e.Subscription)]).WaitAsync(timeout);
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.FeedFailed(_logger, GrainKey, error.GetType().Name);
        }
    }

    public Task OnEvents(ChannelEventBatch batch)
    {
        var entries = _entries;
        foreach (var e in batch.Events)
        {
            if (e.Kind == ChannelEventKind.Terminate)
            {
                foreach (var entry in entries)
                {
                    entry.Connection.CloseWithError(4009, "You got disconnected by the app.");
                }

                continue;
            }

            var frame = Render(e);
            foreach (var entry in entries)
            {
                if ((!entry.Subscription.Passive || entry.Listening)
                    && !string.Equals(e.ExcludedSocketId, entry.Connection.SocketId, StringComparison.Ordinal))
                {
                    entry.Connection.Deliver(Channel, frame);
                }
            }
        }

        return Task.CompletedTask;
    }

    private byte[] Render(ChannelEvent e) => e.Kind switch
    {
        ChannelEventKind.MemberAdded => PusherFrames.MemberAdded(Channel, new ChannelMember(e.UserId!, e.UserInfoJson)),
        ChannelEventKind.MemberRemoved => PusherFrames.MemberRemoved(Channel, e.UserId!),
        ChannelEventKind.SubscriptionCount => PusherFrames.SubscriptionCount(Channel, e.Count),
        _ => e.DataIsJson
            ? PusherFrames.RawEvent(e.Name!, Channel, e.Data!, _presence ? e.UserId : null)
            : PusherFrames.Event(e.Name!, Channel, e.Data!, _presence ? e.UserId : null),
    };

    private void Drop(Entry entry) => _entries = [.. _entries.Where(e => !ReferenceEquals(e, entry))];

    private sealed class Entry(PusherConnection connection, ChannelSubscription subscription)
    {
        public PusherConnection Connection { get; } = connection;

        public ChannelSubscription Subscription { get; } = subscription;

        /// <summary>For a passive (signed-in) entry on a user channel: the client subscribed, so events go to it.</summary>
        public bool Listening { get; set; }
    }
}
