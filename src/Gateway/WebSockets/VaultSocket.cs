using System.Net.WebSockets;
using System.Threading.Channels;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// One client socket on one object: its connection id, its cursor (the last event sequence handed to it),
/// and a bounded send queue drained by a single writer so a slow client never slows the feed.
/// </summary>
public sealed class VaultSocket : IFeedSubscriber
{
    private readonly WebSocket _socket;
    private readonly Channel<OutgoingFrame> _queue;
    private volatile bool _queueCompleted;
    private readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> _urgent = new();
    private readonly Lock _lock = new();
    private List<(long Epoch, ObjectEvent Event, byte[] Frame)>? _held = [];
    private long _epoch;
    private long _cursor;
    private long _lastSent;
    private volatile bool _attached;
    private volatile JoinedPresence? _presence;

    public VaultSocket(WebSocket socket, string connectionId, string owner, string objectKey, int maxQueuedFrames)
    {
        _socket = socket;
        ConnectionId = connectionId;
        Owner = owner;
        ObjectKey = objectKey;
        _queue = Channel.CreateBounded<OutgoingFrame>(new BoundedChannelOptions(maxQueuedFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The connection id; a successful resume replaces it with the resumed one.</summary>
    public string ConnectionId { get; private set; }

    /// <summary>Who may resume this connection: the caller's API key.</summary>
    public string Owner { get; }

    public string ObjectKey { get; }

    /// <summary>The sequence of the last event actually written to the client.</summary>
    public long LastSent => Interlocked.Read(ref _lastSent);

    /// <summary>Set when the queue overflowed and the socket was dropped.</summary>
    public bool TooSlow { get; private set; }

    /// <summary>Completes once the socket is fully cleaned up (detached from its object).</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The connection for an object that forgot this gateway's feed; null until the object attached it.</summary>
    public ConnectionRestore? Registration =>
        !_attached ? null : _presence is { } joined ? joined.For(ConnectionId, Owner) : new ConnectionRestore(ConnectionId, Owner, null, null, null);

    /// <summary>Remembers (or, with null, forgets) the presence entry this connection joined with.</summary>
    public void Joined(JoinedPresence? presence) => _presence = presence;

    /// <summary>Feed entry point: queue the event unless it is old, excluded, or the socket is still holding.</summary>
    public void Deliver(FeedEvent e) => Deliver(e.Epoch, e.Event, e.VaultriceFrame);

    private void Deliver(long epoch, ObjectEvent e, byte[] frame)
    {
        lock (_lock)
        {
            if (_held is not null)
            {
                _held.Add((epoch, e, frame));
                return;
            }

            DeliverLocked(epoch, e, frame);
        }
    }

    /// <summary>Starts delivery after the object returned the sequence this socket starts after; <paramref name="first"/> goes out before any event.</summary>
    public void Start(long epoch, long sequence, byte[] first)
    {
        lock (_lock)
        {
            _epoch = epoch;
            _cursor = sequence;
            _lastSent = sequence;
            _attached = true;
            Enqueue(first, 0);
            Release();
        }
    }

    /// <summary>Holds live events (while a resume is worked out) and returns the cursor to resume up to.</summary>
    public long Hold()
    {
        lock (_lock)
        {
            _held ??= [];
            return _cursor;
        }
    }

    /// <summary>Finishes a resume: take over the old connection, send the ack and the missed events, then the held live ones.</summary>
    public void CompleteResume(string connectionId, byte[] ack, IReadOnlyList<(ObjectEvent Event, byte[] Frame)> missed)
    {
        lock (_lock)
        {
            ConnectionId = connectionId;
            if (missed.Count > 0)
            {
                // Until the replay is written, the resumed connection has seen nothing after its old cursor.
                Interlocked.Exchange(ref _lastSent, missed[0].Event.Sequence - 1);
            }

            Enqueue(ack, 0);
            foreach (var (e, frame) in missed)
            {
                Enqueue(frame, e.Sequence);
            }

            Release();
        }
    }

    /// <summary>Ends a hold without resuming, after sending <paramref name="frame"/>.</summary>
    public void ReleaseWith(byte[] frame)
    {
        lock (_lock)
        {
            Enqueue(frame, 0);
            Release();
        }
    }

    /// <summary>
    /// Sends <paramref name="frame"/> ahead of queued events (a pong: the SDK drops a socket whose pong takes
    /// over 10 s, which a long backlog could otherwise cause).
    /// </summary>
    public void SendUrgent(byte[] frame)
    {
        _urgent.Enqueue(frame);

        // Wakes the writer; an empty frame is only a nudge.
        Enqueue([], 0);
    }

    /// <summary>Queues a control frame (error) in order with events.</summary>
    public void Send(byte[] frame)
    {
        lock (_lock)
        {
            Enqueue(frame, 0);
        }
    }

    /// <summary>The writer: sends queued frames one at a time until the socket ends.</summary>
    public async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        await foreach (var frame in _queue.Reader.ReadAllAsync(cancellationToken))
        {
            while (_urgent.TryDequeue(out var urgent))
            {
                await _socket.SendAsync(urgent.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }

            if (frame.Payload.Length == 0 && frame.Close is null)
            {
                continue;
            }

            if (frame.Close is { } close)
            {
                await _socket.CloseOutputAsync(close.Status, close.Reason, cancellationToken);
                return;
            }

            await _socket.SendAsync(frame.Payload.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            if (frame.Sequence > 0)
            {
                Interlocked.Exchange(ref _lastSent, frame.Sequence);
            }
        }
    }

    /// <summary>Queues a close after everything already queued.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        _queue.Writer.TryWrite(new OutgoingFrame([], 0, (status, reason)));
        CompleteQueue();
    }

    public void CompleteQueue()
    {
        _queueCompleted = true;
        _queue.Writer.TryComplete();
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort()
    {
        CompleteQueue();
        _socket.Abort();
    }

    private void Release()
    {
        var held = _held;
        _held = null;
        if (held is null)
        {
            return;
        }

        foreach (var (epoch, e, frame) in held)
        {
            DeliverLocked(epoch, e, frame);
        }
    }

    private void DeliverLocked(long epoch, ObjectEvent e, byte[] frame)
    {
        if (epoch != _epoch)
        {
            // The object lost its unsealed history and numbers again from its stored sequence: follow the new numbering.
            _epoch = epoch;
            _cursor = 0;
        }

        if (e.Sequence <= _cursor)
        {
            return;
        }

        _cursor = e.Sequence;
        if (e.ExcludedConnectionId is not null && string.Equals(e.ExcludedConnectionId, ConnectionId, StringComparison.Ordinal))
        {
            return;
        }

        Enqueue(frame, e.Sequence);
    }

    private void Enqueue(byte[] payload, long sequence)
    {
        // A socket that is closing takes no more frames; only a full queue means the client does not keep up.
        if (!_queue.Writer.TryWrite(new OutgoingFrame(payload, sequence, null)) && !TooSlow && !_queueCompleted)
        {
            // The client does not keep up: drop it rather than buffer without bound. It can resume.
            TooSlow = true;
            Abort();
        }
    }

    private readonly record struct OutgoingFrame(byte[] Payload, long Sequence, (WebSocketCloseStatus Status, string Reason)? Close);
}
