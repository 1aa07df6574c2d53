using System.Collections.Concurrent;
using Orleans.Streams;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// Per-gateway fan-out: one Orleans stream subscription per object that has sockets on this gateway,
/// relaying each event (rendered once) to those sockets.
/// </summary>
public sealed class ObjectFeeds(IClusterClient client, ILogger<ObjectFeeds> logger)
{
    private readonly ConcurrentDictionary<string, ObjectFeed> _feeds = new(StringComparer.Ordinal);

    public int ActiveFeeds => _feeds.Count;

    /// <summary>Whether this gateway currently relays the object's stream.</summary>
    public bool HasFeed(string objectKey) => _feeds.ContainsKey(objectKey);

    public async Task<ObjectFeed> AddAsync(string objectKey, VaultSocket socket)
    {
        while (true)
        {
            var feed = _feeds.GetOrAdd(objectKey, key => new ObjectFeed(key, client, logger, this));
            if (await feed.TryAddAsync(socket))
            {
                return feed;
            }

            // The feed closed between lookup and add; it removes itself, so the next lookup makes a new one.
            _feeds.TryRemove(new KeyValuePair<string, ObjectFeed>(objectKey, feed));
        }
    }

    internal void Forget(ObjectFeed feed) => _feeds.TryRemove(new KeyValuePair<string, ObjectFeed>(feed.ObjectKey, feed));
}

/// <summary>The subscription of one object on this gateway and the sockets it serves.</summary>
public sealed class ObjectFeed : IAsyncObserver<ObjectEventBatch>
{
    private readonly IClusterClient _client;
    private readonly ILogger _logger;
    private readonly ObjectFeeds _owner;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private VaultSocket[] _sockets = [];
    private StreamSubscriptionHandle<ObjectEventBatch>? _subscription;
    private bool _closed;
    private long _epoch;
    private long _lastSequence;

    internal ObjectFeed(string objectKey, IClusterClient client, ILogger logger, ObjectFeeds owner)
    {
        ObjectKey = objectKey;
        _client = client;
        _logger = logger;
        _owner = owner;
    }

    public string ObjectKey { get; }

    internal async Task<bool> TryAddAsync(VaultSocket socket)
    {
        await _gate.WaitAsync();
        try
        {
            if (_closed)
            {
                return false;
            }

            if (_subscription is null)
            {
                var stream = _client.GetStreamProvider(VaultStreams.ProviderName)
                    .GetStream<ObjectEventBatch>(StreamId.Create(VaultStreams.ObjectNamespace, ObjectKey));
                _subscription = await stream.SubscribeAsync(this);
            }

            _sockets = [.. _sockets, socket];
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RemoveAsync(VaultSocket socket)
    {
        StreamSubscriptionHandle<ObjectEventBatch>? toCancel = null;
        await _gate.WaitAsync();
        try
        {
            _sockets = [.. _sockets.Where(s => !ReferenceEquals(s, socket))];
            if (_sockets.Length == 0 && !_closed)
            {
                _closed = true;
                toCancel = _subscription;
                _owner.Forget(this);
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
                await toCancel.UnsubscribeAsync();
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                GatewayLog.FeedFailed(_logger, ObjectKey, error.GetType().Name);
            }
        }
    }

    public async Task OnNextAsync(ObjectEventBatch batch, StreamSequenceToken? token = null)
    {
        if (batch.Events.Count == 0)
        {
            return;
        }

        var events = batch.Events;
        var first = events[0].Sequence;
        if (batch.Epoch != _epoch)
        {
            _epoch = batch.Epoch;
            _lastSequence = 0;
        }
        else if (first > _lastSequence + 1)
        {
            // A stream event was lost: fetch the gap from the object's history before going on.
            GatewayLog.FeedGap(_logger, ObjectKey, _lastSequence + 1, first);
            var missed = await _client.GetGrain<ISharedObjectGrain>(ObjectKey).GetEventsAfter(_lastSequence);
            if (missed is not null)
            {
                events = [.. missed.Where(e => e.Sequence < first), .. events];
            }
        }

        var sockets = _sockets;
        foreach (var e in events)
        {
            if (e.Sequence <= _lastSequence)
            {
                continue;
            }

            _lastSequence = e.Sequence;
            var frame = VaultriceJson.EventFrame(e);
            foreach (var socket in sockets)
            {
                socket.Deliver(batch.Epoch, e, frame);
            }
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        GatewayLog.FeedFailed(_logger, ObjectKey, ex.GetType().Name);
        return Task.CompletedTask;
    }
}
