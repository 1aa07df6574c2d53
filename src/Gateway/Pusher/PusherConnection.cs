using System.Collections.Concurrent;
using System.Net.WebSockets;
using OrleansVault.Channels;
using OrleansVault.Gateway.WebSockets;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// One Pusher socket: its id, app, signed-in user, subscriptions and its bounded <see cref="OutgoingFrames"/>, so a
/// slow client never slows a channel. Events of a channel whose subscription is still being confirmed are held and
/// sent after <c>subscription_succeeded</c>.
/// </summary>
public sealed class PusherConnection
{
    private readonly OutgoingFrames _frames;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<byte[]>> _held = new(StringComparer.Ordinal);
    private long _lastInbound;

    public PusherConnection(WebSocket socket, string socketId, PusherApp app, int maxQueuedFrames, TimeProvider time)
    {
        _frames = new OutgoingFrames(socket, maxQueuedFrames);
        SocketId = socketId;
        App = app;
        Time = time;
        _lastInbound = time.GetTimestamp();
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
    public bool TooSlow => _frames.TooSlow;

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

    /// <summary>
    /// A channel event for this socket (held while the subscription is being confirmed); <paramref name="sendNow"/> as
    /// in <see cref="OutgoingFrames.Enqueue"/>.
    /// </summary>
    public void Deliver(string channel, byte[] frame, bool sendNow)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(channel, out var held))
            {
                held.Add(frame);
                return;
            }

            _frames.Enqueue(frame, sendNow: sendNow);
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
    public void Close(WebSocketCloseStatus status, string reason) => _frames.Close(status, reason);

    /// <summary>Sends a <c>pusher:error</c> with <paramref name="code"/>, then closes with that code.</summary>
    public void CloseWithError(int code, string message)
    {
        Send(Protocol.PusherFrames.Error(code, message));
        Close((WebSocketCloseStatus)code, message);
    }

    public void Complete() => _frames.Complete();

    public Task RunWriterAsync(CancellationToken cancellationToken) => _frames.RunAsync(cancellationToken);

    private void Enqueue(byte[] frame) => _frames.Enqueue(frame);
}
