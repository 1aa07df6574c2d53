using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// Per-gateway fan-out: one feed per object that has sockets on this gateway. Objects push their batches of events
/// one-way: through this gateway's hub (one observer for the whole gateway: each silo sends what gathered for this
/// gateway in one message, see <c>FeedPushes</c>), which hands each batch to its feed; the feed renders each event once
/// and relays it to its sockets.
/// </summary>
public sealed class ObjectFeeds
{
    private readonly ConcurrentDictionary<string, ObjectFeed> _feeds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<GrainId, ObjectFeed> _byObserver = new();
    private readonly IClusterClient _client;
    private readonly IOptions<SocketOptions> _options;
    private readonly ILogger<ObjectFeeds> _logger;
    private readonly PushHub _hub;
    private readonly ConditionalWeakTable<IClusterClient, IFeedHubObserver> _hubReferences = [];

    public ObjectFeeds(IClusterClient client, ObjectReferences objects, IOptions<SocketOptions> options, ILogger<ObjectFeeds> logger)
    {
        _client = client;
        Objects = objects;
        _options = options;
        _logger = logger;

        // Observer objects are held weakly by the client: this field keeps the hub alive as long as the feeds.
        _hub = new PushHub(this);
    }

    public int ActiveFeeds => _feeds.Count;

    /// <summary>Where the feeds' calls go (observers stay on the main client; calls may be routed straight to the object's silo).</summary>
    internal ObjectReferences Objects { get; }

    /// <summary>
    /// The reference objects push this gateway's batches through, made on the client a feed's calls go through (the
    /// main client, or in a cluster the direct client of the object's silo, so pushes come over that connection too).
    /// </summary>
    internal IFeedHubObserver HubOn(IClusterClient? direct)
    {
        var client = direct ?? _client;
        return _hubReferences.GetValue(client, c => c.CreateObjectReference<IFeedHubObserver>(_hub));
    }

    /// <summary>Whether this gateway currently relays the object.</summary>
    public bool HasFeed(string objectKey) => _feeds.ContainsKey(objectKey);

    public async Task<ObjectFeed> AddAsync(string objectKey, IFeedSubscriber subscriber)
    {
        while (true)
        {
            var feed = _feeds.GetOrAdd(objectKey, key => new ObjectFeed(key, _client, _logger, this, _options.Value.FeedRenewTimeout));
            if (await feed.TryAddAsync(subscriber))
            {
                return feed;
            }

            // The feed closed between lookup and add; it removes itself, so the next lookup makes a new one.
            _feeds.TryRemove(new KeyValuePair<string, ObjectFeed>(objectKey, feed));
        }
    }

    /// <summary>Renews every feed's subscription and repairs any gap the renewal reveals (an object that reactivated elsewhere).</summary>
    public Task RenewAllAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            _feeds.Values,
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (feed, _) => await feed.RenewAsync());

    internal void Forget(ObjectFeed feed) => _feeds.TryRemove(new KeyValuePair<string, ObjectFeed>(feed.ObjectKey, feed));

    /// <summary>Routes the hub's pushes for <paramref name="reference"/> to <paramref name="feed"/> (before it subscribes).</summary>
    internal void Register(IObjectFeedObserver reference, ObjectFeed feed) => _byObserver[reference.GetGrainId()] = feed;

    /// <summary>Stops routing pushes for a closed feed's reference.</summary>
    internal void Unregister(IObjectFeedObserver reference) => _byObserver.TryRemove(reference.GetGrainId(), out _);

    /// <summary>This gateway's receiver of batched pushes: hands every batch to its feed, in the order they came.</summary>
    private sealed class PushHub(ObjectFeeds owner) : IFeedHubObserver
    {
        public Task OnPushes(IReadOnlyList<FeedPush> pushes)
        {
            foreach (var push in pushes)
            {
                // A feed that closed meanwhile has no sockets left: its batches go nowhere.
                if (owner._byObserver.TryGetValue(push.Feed, out var feed))
                {
                    // Not awaited: a feed repairing a gap must not hold up the others. Each feed relays its batches
                    // one at a time in the order they were handed over (its delivery lock queues them first come, first served).
                    _ = feed.OnEvents(push.Batch);
                }
            }

            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// Renews the gateway's object and channel feeds well within their feed leases (<c>Vault:WebSockets:FeedRenewInterval</c>),
/// and in cluster mode also as soon as the direct routes change, so objects push through the new ones.
/// </summary>
public sealed class FeedRenewalService(ObjectFeeds feeds, Pusher.ChannelFeeds channels, IOptions<SocketOptions> options, TimeProvider time, Hosting.SiloRouter? router = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FeedRenewInterval, time);
        try
        {
            var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
            var never = Task.Delay(Timeout.Infinite, stoppingToken);
            while (true)
            {
                var routesChanged = router?.Changed ?? never;
                if (await Task.WhenAny(tick, routesChanged) == tick)
                {
                    if (!await tick)
                    {
                        break;
                    }

                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                }

                stoppingToken.ThrowIfCancellationRequested();
                // Side by side, each call bounded by FeedRenewTimeout: a round stays well inside the leases even while
                // calls to a dead silo's grains time out.
                await Task.WhenAll(feeds.RenewAllAsync(stoppingToken), channels.RenewAllAsync(stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}

/// <summary>One receiver of an object feed: a Vaultrice socket or a native hub connection's view of the object.</summary>
public interface IFeedSubscriber
{
    /// <summary>The sequence of the last event actually handed to the client (its cursor, should this gateway die).</summary>
    long LastSent { get; }

    /// <summary>Takes one event; never blocks (a slow client is dropped, not waited for).</summary>
    void Deliver(FeedEvent e);

    /// <summary>The connection as the object should know it (to re-register it with an object that forgot this feed), or null while it is not attached.</summary>
    ConnectionRestore? Registration { get; }
}

/// <summary>A connection's presence entry as its gateway remembers it, to restore it on an object that forgot it.</summary>
public sealed record JoinedPresence(string DataJson, int? KeyVersion, string? VerifiedUserId)
{
    public ConnectionRestore For(string connectionId, string owner) => new(connectionId, owner, DataJson, KeyVersion, VerifiedUserId);
}

/// <summary>An event on its way through a feed, rendered at most once per door however many clients receive it.</summary>
public sealed class FeedEvent(long epoch, ObjectEvent e)
{
    private byte[]? _vaultriceFrame;
    private Protocol.ObjectEventData? _native;

    public long Epoch => epoch;

    public ObjectEvent Event => e;

    /// <summary>The Vaultrice socket frame (WIRE 1.6).</summary>
    public byte[] VaultriceFrame => _vaultriceFrame ??= VaultriceJson.EventFrame(e);

    /// <summary>The native door's event.</summary>
    public Protocol.ObjectEventData Native => _native ??= OrleansVault.Gateway.Native.NativeMapping.ToEvent(epoch, e);
}

/// <summary>The subscription of one object on this gateway and the clients it serves.</summary>
public sealed class ObjectFeed : IObjectFeedObserver
{
    private readonly IClusterClient _client;
    private readonly ILogger _logger;
    private readonly ObjectFeeds _owner;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _delivery = new(1, 1);
    private IFeedSubscriber[] _sockets = [];
    private IObjectFeedObserver? _reference;
    private bool _closed;
    private readonly TimeSpan _renewTimeout;
    private volatile bool _restorePending;
    private long _epoch;
    private long _lastSequence;

    internal ObjectFeed(string objectKey, IClusterClient client, ILogger logger, ObjectFeeds owner, TimeSpan renewTimeout)
    {
        ObjectKey = objectKey;
        _client = client;
        _logger = logger;
        _owner = owner;
        _renewTimeout = renewTimeout;
    }

    public string ObjectKey { get; }

    /// <summary>The object, looked up per call: in a cluster the route to it can change while the feed lives.</summary>
    private ISharedObjectGrain Grain => _owner.Objects.Get(ObjectKey);

    /// <summary>The object and the hub to name when subscribing: both on the same client.</summary>
    private (ISharedObjectGrain Grain, IFeedHubObserver Hub) Subscription()
    {
        var (grain, direct) = _owner.Objects.Route(ObjectKey);
        return (grain, _owner.HubOn(direct));
    }

    /// <summary>The grain-observer reference the object pushes to (set once the first socket was added).</summary>
    public IObjectFeedObserver? Reference => _reference;

    internal async Task<bool> TryAddAsync(IFeedSubscriber socket)
    {
        await _gate.WaitAsync();
        try
        {
            if (_closed)
            {
                return false;
            }

            if (_reference is null)
            {
                var reference = _client.CreateObjectReference<IObjectFeedObserver>(this);
                _owner.Register(reference, this);
                try
                {
                    var (grain, hub) = Subscription();
                    await CatchUpAsync(await grain.Subscribe(reference, 0, hub));
                }
                catch
                {
                    _owner.Unregister(reference);
                    _client.DeleteObjectReference<IObjectFeedObserver>(reference);
                    throw;
                }

                _reference = reference;
            }

            _sockets = [.. _sockets, socket];
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RemoveAsync(IFeedSubscriber socket)
    {
        IObjectFeedObserver? toCancel = null;
        await _gate.WaitAsync();
        try
        {
            _sockets = [.. _sockets.Where(s => !ReferenceEquals(s, socket))];
            if (_sockets.Length == 0 && !_closed)
            {
                _closed = true;
                toCancel = _reference;
                _owner.Forget(this);
                if (toCancel is not null)
                {
                    _owner.Unregister(toCancel);
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        if (toCancel is not null)
        {
            try
            {
                await Grain.Unsubscribe(toCancel);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The object's lease drops the subscription on its own.
                GatewayLog.FeedFailed(_logger, ObjectKey, error.GetType().Name);
            }
            finally
            {
                ObserverRelease.Later(_client, toCancel);
            }
        }
    }

    /// <summary>Renews the subscription; if the object is ahead of what this feed saw, relays the gap from its history.</summary>
    internal async Task RenewAsync()
    {
        var reference = _reference;
        if (reference is null || _closed)
        {
            return;
        }

        try
        {
            // Every socket here has been sent at least this much: the cursor of their connections should this gateway die.
            var sockets = _sockets;
            var delivered = sockets.Length == 0 ? 0 : sockets.Min(s => s.LastSent);

            // Bounded: a silo that died makes calls to its grains wait for the response timeout, and one slow object must
            // not hold up the renewal of the others past their leases.
            var (grain, hub) = Subscription();
            var position = await grain.Subscribe(reference, delivered, hub).WaitAsync(_renewTimeout);
            await CatchUpAsync(position);
            if (!position.WasSubscribed || _restorePending)
            {
                // The object reactivated, or dropped this feed for a lapsed lease: it no longer knows these connections.
                // Until that is repaired (a call may time out), every renewal tries again.
                _restorePending = true;
                await grain.RestoreFeed(reference, await RegistrationsAsync()).WaitAsync(_renewTimeout);
                _restorePending = false;
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.FeedFailed(_logger, ObjectKey, error.GetType().Name);
        }
    }

    /// <summary>
    /// The connections to restore, read under the gate, so none is half added or half removed. One that closes after
    /// this (its detach may even reach the object first) is refused by the object: it knows the connection closed.
    /// </summary>
    private async Task<ConnectionRestore[]> RegistrationsAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return [.. _sockets.Select(s => s.Registration).OfType<ConnectionRestore>()];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task OnEvents(ObjectEventBatch batch)
    {
        if (batch.Events.Count == 0)
        {
            return;
        }

        await _delivery.WaitAsync();
        try
        {
            var events = batch.Events;
            var first = events[0].Sequence;
            if (batch.Epoch == _epoch && first > _lastSequence + 1)
            {
                // A push was lost (or overtaken): fetch the gap from the object's history before going on.
                GatewayLog.FeedGap(_logger, ObjectKey, _lastSequence + 1, first);
                if (await FetchAfterAsync(_lastSequence) is { } missed)
                {
                    events = [.. missed.Where(e => e.Sequence < first), .. events];
                }
            }

            Relay(batch.Epoch, events);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.FeedFailed(_logger, ObjectKey, error.GetType().Name);
        }
        finally
        {
            _delivery.Release();
        }
    }

    private async Task CatchUpAsync(FeedPosition position)
    {
        await _delivery.WaitAsync();
        try
        {
            if (_epoch == 0)
            {
                // First subscription: pushes start after this position.
                _epoch = position.Epoch;
                _lastSequence = position.Sequence;
            }
            else if (!position.WasSubscribed && (position.Epoch != _epoch || position.Sequence > _lastSequence))
            {
                // The object reactivated and had not heard of this feed: pushes went missing, so relay them from history.
                // (A feed it knew gets every push in order; pushes still in flight are not a gap.)
                var after = position.Epoch == _epoch ? _lastSequence : position.EpochStart;
                GatewayLog.FeedGap(_logger, ObjectKey, after + 1, position.Sequence);
                if (await FetchAfterAsync(after) is { } missed)
                {
                    Relay(position.Epoch, missed);
                }
            }
        }
        finally
        {
            _delivery.Release();
        }
    }

    private Task<IReadOnlyList<ObjectEvent>?> FetchAfterAsync(long sequence) => Grain.GetEventsAfter(sequence);

    private void Relay(long epoch, IReadOnlyList<ObjectEvent> events)
    {
        if (epoch != _epoch)
        {
            _epoch = epoch;
            _lastSequence = 0;
        }

        var sockets = _sockets;
        foreach (var e in events)
        {
            if (e.Sequence <= _lastSequence)
            {
                continue;
            }

            _lastSequence = e.Sequence;
            var rendered = new FeedEvent(epoch, e);
            foreach (var socket in sockets)
            {
                socket.Deliver(rendered);
            }
        }
    }
}
