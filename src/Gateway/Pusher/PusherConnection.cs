using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using OrleansVault.Channels;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// One Pusher socket: its id, app, signed-in user, subscriptions and a bounded send queue drained by one writer, so a
/// slow client never slows a channel. Events of a channel whose subscription is still being confirmed are held and
/// sent after <c>subscription_succeeded</c>.
/// </summary>
public sealed class PusherConnection
{
    private readonly WebSocket _socket;
    private readonly Channel<(byte[] Frame, (WebSocketCloseStatus Status, string Reason)? Close)> _queue;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<byte[]>> _held = new(StringComparer.Ordinal);
    private long _lastInbound;
    private volatile bool _completed;

    public PusherConnection(WebSocket socket, string socketId, PusherApp app, int maxQueuedFrames, TimeProvider time)
    {
        _socket = socket;
        SocketId = socketId;
        App = app;
        Time = time;
        _lastInbound = time.GetTimestamp();
        _queue = Channel.CreateBounded<(byte[], (WebSocketCloseStatus, string)?)>(new BoundedChannelOptions(maxQueuedFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string SocketId { get; }

    public PusherApp App { get; }

    public TimeProvider Time { get; }

    /// <summary>The user this socket signed in as (<c>pusher:signin</c>), if any.</summary>
    public string? UserId { get; set; }

    /// <summary>Signed in, or subscribed to a private or presence channel (authorized connections).</summary>
    public bool Authorized { get; set; }

    /// <summary>The client-event token bucket (created on the first client event; used by the receive loop only).</summary>
    public Limits.RateBucket? ClientEventRate { get; set; }

    /// <summary>Channel name → the feed that relays it to this socket.</summary>
    public ConcurrentDictionary<string, ChannelFeed> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>Set when the queue overflowed and the socket was dropped.</summary>
    public bool TooSlow { get; private set; }

    public TimeSpan SinceLastInbound => Time.GetElapsedTime(Interlocked.Read(ref _lastInbound));

    public void MarkInbound() => Interlocked.Exchange(ref _lastInbound, Time.GetTimestamp());

    /// <summary>Starts holding events of <paramref name="channel"/> until <see cref="Release"/>.</summary>
    public void Hold(string channel)
    {
        lock (_lock)
        {
            _held[channel] = [];
        }
    }

    /// <summary>Sends <paramref name="first"/> frames, then the events held for the channel (none when <paramref name="keep"/> is false).</summary>
    public void Release(string channel, IEnumerable<byte[]> first, bool keep = true)
    {
        lock (_lock)
        {
            _held.Remove(channel, out var held);
            foreach (var frame in first)
            {
                Enqueue(frame);
            }

            if (keep && held is not null)
            {
                foreach (var frame in held)
                {
                    Enqueue(frame);
                }
            }
        }
    }

    /// <summary>A channel event for this socket (held while the subscription is being confirmed).</summary>
    public void Deliver(string channel, byte[] frame)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(channel, out var held))
            {
                held.Add(frame);
                return;
            }

            Enqueue(frame);
        }
    }

    public void Send(byte[] frame)
    {
        lock (_lock)
        {
            Enqueue(frame);
        }
    }

    /// <summary>Queues a close after everything already queued.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        _queue.Writer.TryWrite(([], (status, reason)));
        Complete();
    }

    /// <summary>Sends a <c>pusher:error</c> with <paramref name="code"/>, then closes with that code.</summary>
    public void CloseWithError(int code, string message)
    {
        Send(Protocol.PusherFrames.Error(code, message));
        Close((WebSocketCloseStatus)code, message);
    }

    public void Complete()
    {
        _completed = true;
        _queue.Writer.TryComplete();
    }

    public async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        await foreach (var (frame, close) in _queue.Reader.ReadAllAsync(cancellationToken))
        {
            if (close is { } c)
            {
                await _socket.CloseOutputAsync(c.Status, c.Reason, cancellationToken);
                return;
            }

            await _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
    }

    private void Enqueue(byte[] frame)
    {
        if (!_queue.Writer.TryWrite((frame, null)) && !TooSlow && !_completed)
        {
            // The client does not keep up: drop it rather than buffer without bound.
            TooSlow = true;
            Complete();
            _socket.Abort();
        }
    }
}
