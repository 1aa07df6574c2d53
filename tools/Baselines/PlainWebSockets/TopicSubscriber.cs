using System.Net.WebSockets;
using System.Threading.Channels;

namespace OrleansVault.Baselines.PlainWebSockets;

/// <summary>
/// One socket's outgoing side: a bounded queue of payloads drained by a single writer,
/// so a broadcast only enqueues and one slow socket never holds up the others.
/// </summary>
internal sealed class TopicSubscriber
{
    /// <summary>Frames a socket may fall behind by before it is dropped as too slow.</summary>
    public const int MaxQueuedFrames = 10_000;

    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _queue;
    private int _stopped;

    public TopicSubscriber(WebSocket socket)
    {
        _socket = socket;
        _queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(MaxQueuedFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Queues a payload; false when the queue is full or already closed.</summary>
    public bool TryEnqueue(ReadOnlyMemory<byte> payload) => _queue.Writer.TryWrite(payload);

    /// <summary>Drops the socket; true only when this call did it, false once the socket was already stopping.</summary>
    public bool Abort()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return false;
        }

        _queue.Writer.TryComplete();
        _socket.Abort();
        return true;
    }

    /// <summary>Stops taking payloads because the session is ending; a later <see cref="Abort"/> is a no-op.</summary>
    public void Complete()
    {
        Interlocked.Exchange(ref _stopped, 1);
        _queue.Writer.TryComplete();
    }

    /// <summary>Sends queued payloads, one text frame each, until the queue completes or the token fires.</summary>
    public async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        ChannelReader<ReadOnlyMemory<byte>> reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                while (reader.TryRead(out ReadOnlyMemory<byte> payload))
                {
                    await _socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The peer went away or the session is ending; abort so the receive loop ends too.
            Abort();
        }
    }
}
