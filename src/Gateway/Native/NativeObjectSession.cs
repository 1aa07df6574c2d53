using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OrleansVault.Errors;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// One object opened by one native connection: its connection id on the object, its cursor (the last event sequence it
/// took from the feed), and, while the client subscribes, the stream its events go out on. Subscribing from a sequence
/// replays exactly the gap from the object's history (or sends <see cref="EventKind.Refetch"/>), then live events,
/// with no duplicate.
/// </summary>
public sealed class NativeObjectSession : IFeedSubscriber
{
    private readonly NativeConnection _connection;
    private readonly Lock _lock = new();
    private List<FeedEvent>? _held;
    private Channel<ObjectEventData>? _stream;
    private long _epoch;
    private long _cursor;
    private long _lastSent;
    private volatile bool _attached;
    private volatile bool _closed;
    private volatile JoinedPresence? _presence;

    private readonly ObjectReferences _objects;

    public NativeObjectSession(NativeConnection connection, ObjectAddress address, string connectionId, ObjectReferences objects)
    {
        _connection = connection;
        Address = address;
        ConnectionId = connectionId;
        _objects = objects;
    }

    public ObjectAddress Address { get; }

    public string Handle => Address.Class + "/" + Address.ObjectId;

    /// <summary>This session's public connection id on the object.</summary>
    public string ConnectionId { get; }

    /// <summary>The object, looked up per call: in a cluster the route to it can change while the session is open.</summary>
    public ISharedObjectGrain Grain => _objects.Get(Address.GrainKey);

    /// <summary>The gateway feed relaying the object (set once opened).</summary>
    public ObjectFeed? Feed { get; set; }

    public long LastSent => Interlocked.Read(ref _lastSent);

    /// <summary>Whether the session was closed (the object closed, or its connection ended).</summary>
    public bool IsClosed => _closed;

    public ConnectionRestore? Registration =>
        !_attached || _closed ? null : _presence is { } joined ? joined.For(ConnectionId, Owner) : new ConnectionRestore(ConnectionId, Owner, null, null, null);

    /// <summary>Who may resume this connection: the caller's API key.</summary>
    public string Owner => _connection.Caller.KeyId;

    /// <summary>Remembers (or, with null, forgets) the presence entry this connection joined with.</summary>
    public void Joined(JoinedPresence? presence) => _presence = presence;

    public OpenResult Start(long epoch, long sequence)
    {
        lock (_lock)
        {
            // The feed may already have handed this session events after the object's answer (another socket here
            // relays the object): keep that cursor, but report the object's position, so a subscribe from it fetches
            // those events from history instead of skipping them.
            if (_epoch != epoch || _cursor < sequence)
            {
                _epoch = epoch;
                _cursor = sequence;
            }

            Interlocked.Exchange(ref _lastSent, sequence);
            _attached = true;
            return new OpenResult(Handle, ConnectionId, epoch, sequence);
        }
    }

    /// <summary>Where this session stands: its handle, connection id, and the last event it took.</summary>
    public OpenResult Position()
    {
        lock (_lock)
        {
            return new OpenResult(Handle, ConnectionId, _epoch, _cursor);
        }
    }

    public void Deliver(FeedEvent e)
    {
        lock (_lock)
        {
            if (_held is not null)
            {
                _held.Add(e);
                return;
            }

            DeliverLocked(e.Epoch, e.Event, e);
        }
    }

    /// <summary>
    /// Streams the object's events after <paramref name="afterSequence"/> of <paramref name="epoch"/> (null: from now):
    /// first the gap from history, or a refetch signal when history no longer covers it, then live events.
    /// </summary>
    public async IAsyncEnumerable<ObjectEventData> StreamAsync(long? afterSequence, long? epoch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = Channel.CreateUnbounded<ObjectEventData>(new UnboundedChannelOptions { SingleReader = true });
        long startEpoch, startCursor;
        lock (_lock)
        {
            if (_stream is not null)
            {
                throw VaultException.Conflict(ErrorCodes.AlreadySubscribed, "This connection already subscribes to this object.");
            }

            _stream = stream;
            _held ??= [];
            startEpoch = _epoch;
            startCursor = _cursor;
        }

        try
        {
            await CatchUpAsync(afterSequence, epoch, startEpoch, startCursor);
            await foreach (var e in stream.Reader.ReadAllAsync(cancellationToken))
            {
                _connection.Dequeued();
                Interlocked.Exchange(ref _lastSent, e.Sequence);
                yield return e;
            }
        }
        finally
        {
            lock (_lock)
            {
                if (ReferenceEquals(_stream, stream))
                {
                    _stream = null;
                    _held = null;
                }
            }

            // Whatever was queued and not sent no longer counts against the connection.
            while (stream.Reader.TryRead(out _))
            {
                _connection.Dequeued();
            }
        }
    }

    /// <summary>Marks the session closed and ends its stream (the object was closed, or the connection is going away).</summary>
    public void Close()
    {
        _closed = true;
        lock (_lock)
        {
            _stream?.Writer.TryComplete();
        }
    }

    private async Task CatchUpAsync(long? afterSequence, long? epoch, long startEpoch, long startCursor)
    {
        IReadOnlyList<ObjectEvent>? missed = null;
        var refetch = false;
        try
        {
            if (afterSequence is { } after)
            {
                if (after < 0 || epoch != startEpoch || after > startCursor)
                {
                    // Another epoch (history was lost) or a cursor this object never reached: the client must read again.
                    refetch = true;
                }
                else if (after < startCursor)
                {
                    // Only history of the epoch the client asks about is replayed (and labelled with it): should the
                    // object have started another epoch meanwhile, its events are another numbering, so refetch.
                    missed = await Grain.GetEventsInEpochAfter(startEpoch, after);
                    refetch = missed is null;
                }
            }
        }
        catch
        {
            lock (_lock)
            {
                _stream = null;
                _held = null;
            }

            throw;
        }

        lock (_lock)
        {
            var held = _held ?? [];
            _held = null;
            if (refetch)
            {
                Enqueue(NativeMapping.Refetch(startEpoch, startCursor));
            }
            else if (missed is not null && afterSequence is { } after)
            {
                _cursor = after;
                foreach (var e in missed)
                {
                    DeliverLocked(startEpoch, e, null);
                }
            }

            foreach (var e in held)
            {
                DeliverLocked(e.Epoch, e.Event, e);
            }
        }
    }

    private void DeliverLocked(long epoch, ObjectEvent e, FeedEvent? rendered)
    {
        if (epoch != _epoch)
        {
            // The object lost its unsealed history and numbers again: a subscriber must read the state again.
            _epoch = epoch;
            _cursor = e.Sequence - 1;
            if (_stream is not null)
            {
                Enqueue(NativeMapping.Refetch(epoch, _cursor));
            }
        }

        if (e.Sequence <= _cursor)
        {
            return;
        }

        _cursor = e.Sequence;
        if (_stream is null)
        {
            // Nobody listens: nothing to send, and a later subscribe replays from history.
            Interlocked.Exchange(ref _lastSent, e.Sequence);
            return;
        }

        if (e.ExcludedConnectionId is not null && string.Equals(e.ExcludedConnectionId, ConnectionId, StringComparison.Ordinal))
        {
            return;
        }

        Enqueue(rendered?.Native ?? NativeMapping.ToEvent(epoch, e));
    }

    private void Enqueue(ObjectEventData e)
    {
        if (_stream is { } stream && _connection.TryQueue() && !stream.Writer.TryWrite(e))
        {
            _connection.Dequeued();
        }
    }
}
