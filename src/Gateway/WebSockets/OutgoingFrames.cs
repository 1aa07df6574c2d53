using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// The text frames on their way to one client socket, in order, at most one send at a time, with a bound: a client
/// that lets <c>maxQueuedFrames</c> pile up does not keep up and is dropped (<see cref="TooSlow"/>) rather than
/// buffered without limit.
/// </summary>
/// <remarks>
/// A frame queued while nothing waits and nothing is being sent goes out at once on the caller's thread: the socket
/// write lands in the connection's output pipe and Kestrel's transport sends it, with no hop to the writer task (one
/// thread-pool dispatch per delivery otherwise). Anything else waits in the queue for <see cref="RunAsync"/>. Callers
/// of <see cref="Enqueue"/> serialize among themselves (each owner queues under its own lock), which is what keeps
/// frames in the order they were queued. Sends never take a cancellable token (the socket would then take its slow
/// path on every frame): the writer's token aborts the socket instead, which ends a send stuck on a client that does
/// not read.
/// </remarks>
public sealed class OutgoingFrames
{
    /// <summary>
    /// A delivery to more sockets than this queues every frame for the sockets' writers, which then send in parallel
    /// across cores; smaller fan-outs send on the delivering thread. (Measured on 2 cores: sending at once cut the CPU
    /// per delivery by about a tenth at a fixed rate, while one thread sending to 1,000 sockets became the bottleneck
    /// of a saturated broadcast; docs/performance.md, session 7.)
    /// </summary>
    public const int MaxFanOutToSendNow = 128;

    private readonly WebSocket _socket;
    private readonly Channel<Frame> _queue;
    private readonly ConcurrentQueue<byte[]> _urgent = new();

    // Whoever holds it is the one sender: the writer task, or a caller sending at once.
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly Action<long>? _sent;
    private volatile bool _completed;
    private volatile bool _writing;

    /// <param name="sent">Told each frame's tag once the frame was handed to the socket (in order).</param>
    public OutgoingFrames(WebSocket socket, int maxQueuedFrames, Action<long>? sent = null)
    {
        _socket = socket;
        _sent = sent;
        _queue = Channel.CreateBounded<Frame>(new BoundedChannelOptions(maxQueuedFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Set when the queue overflowed and the socket was dropped.</summary>
    public bool TooSlow { get; private set; }

    /// <summary>
    /// Queues a frame, or sends it at once when <paramref name="sendNow"/> allows and nothing is ahead of it;
    /// <paramref name="tag"/> goes back to the <c>sent</c> callback.
    /// </summary>
    public void Enqueue(byte[] payload, long tag = 0, bool sendNow = true)
    {
        if (sendNow && payload.Length > 0 && _writing && !_completed && _queue.Reader.Count == 0 && _urgent.IsEmpty && _sending.Wait(0))
        {
            if (_queue.Reader.Count == 0 && !_completed)
            {
                SendNow(payload, tag);
                return;
            }

            _sending.Release();
        }

        Queue(new Frame(payload, tag, null));
    }

    /// <summary>Sends <paramref name="frame"/> ahead of the frames waiting (a pong, say).</summary>
    public void EnqueueUrgent(byte[] frame)
    {
        _urgent.Enqueue(frame);

        // Wakes the writer; an empty frame is only a nudge.
        Queue(new Frame([], 0, null));
    }

    /// <summary>Queues a close after everything already queued; nothing is sent after it.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        _queue.Writer.TryWrite(new Frame([], 0, (status, reason)));
        Complete();
    }

    /// <summary>Takes no more frames; the writer ends once it sent what is queued.</summary>
    public void Complete()
    {
        _completed = true;
        _queue.Writer.TryComplete();
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort()
    {
        Complete();
        _socket.Abort();
    }

    /// <summary>The writer: sends queued frames until the queue completes, a close went out or the token fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var abort = cancellationToken.Register(static socket => ((WebSocket)socket!).Abort(), _socket);
        _writing = true;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken))
            {
                await _sending.WaitAsync(cancellationToken);
                bool closed;
                try
                {
                    closed = await SendQueuedAsync(cancellationToken);
                }
                catch
                {
                    _sending.Release();
                    throw;
                }

                if (closed)
                {
                    // After a close nobody sends again: the right to send is kept.
                    return;
                }

                _sending.Release();
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task<bool> SendQueuedAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.TryRead(out var frame))
        {
            while (_urgent.TryDequeue(out var urgent))
            {
                await _socket.SendAsync(urgent.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            if (frame.Close is { } close)
            {
                _completed = true;
                await _socket.CloseOutputAsync(close.Status, close.Reason, cancellationToken);
                return true;
            }

            if (frame.Payload.Length > 0)
            {
                await _socket.SendAsync(frame.Payload.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                _sent?.Invoke(frame.Tag);
            }
        }

        return false;
    }

    private void Queue(Frame frame)
    {
        // A socket that is closing takes no more frames; only a full queue means the client does not keep up.
        if (!_queue.Writer.TryWrite(frame) && !TooSlow && !_completed)
        {
            TooSlow = true;
            Abort();
        }
    }

    /// <summary>Sends on the caller's thread while holding the right to send; a send that cannot finish at once finishes in the background.</summary>
    private void SendNow(byte[] payload, long tag)
    {
        ValueTask sending;
        try
        {
            sending = _socket.SendAsync(payload.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The socket is gone or going (closed, aborted): end it; its loops notice and clean up.
            _sending.Release();
            Abort();
            return;
        }

        if (sending.IsCompletedSuccessfully)
        {
            sending.GetAwaiter().GetResult();
            _sent?.Invoke(tag);
            _sending.Release();
            return;
        }

        _ = FinishSendAsync(sending, tag);
    }

    private async Task FinishSendAsync(ValueTask sending, long tag)
    {
        try
        {
            await sending;
            _sent?.Invoke(tag);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            Abort();
        }
        finally
        {
            _sending.Release();
        }
    }

    private readonly record struct Frame(byte[] Payload, long Tag, (WebSocketCloseStatus Status, string Reason)? Close);
}
