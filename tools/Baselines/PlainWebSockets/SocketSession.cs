using System.Buffers;
using System.Net.WebSockets;
using OrleansVault.Baselines.Diagnostics;
using OrleansVault.Baselines.Http;

namespace OrleansVault.Baselines.PlainWebSockets;

/// <summary>One accepted socket subscribed to one topic, from join to close.</summary>
internal sealed class SocketSession(WebSocket socket, string topicName, TopicHub hub, ConnectionCounters counters)
{
    private const int ReceiveChunkBytes = 4096;

    private readonly TopicSubscriber _subscriber = new(socket);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Topic topic = hub.Join(topicName, _subscriber);
        counters.WebSocketOpened();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task writer = _subscriber.RunWriterAsync(stop.Token);
        WebSocketCloseStatus? closeStatus = null;
        try
        {
            closeStatus = await ReceiveAsync(stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The peer vanished, the socket was dropped as too slow, or the server is stopping.
        }
        finally
        {
            hub.Leave(topic, _subscriber);
            counters.WebSocketClosed();
            _subscriber.Complete();
            await stop.CancelAsync();
            await writer;
        }

        if (closeStatus is { } status && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await CloseAsync(status);
        }
    }

    /// <summary>Relays text messages to the rest of the topic until the peer closes; returns the close status to answer with.</summary>
    private async Task<WebSocketCloseStatus> ReceiveAsync(CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(ReceiveChunkBytes);
        while (true)
        {
            ValueWebSocketReceiveResult result =
                await socket.ReceiveAsync(message.GetMemory(ReceiveChunkBytes), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return WebSocketCloseStatus.NormalClosure;
            }

            message.Advance(result.Count);
            if (message.WrittenCount > BoundedRequestBody.MaxPayloadBytes)
            {
                return WebSocketCloseStatus.MessageTooBig;
            }

            if (!result.EndOfMessage)
            {
                continue;
            }

            // Only text is relayed; binary messages have no meaning in this protocol and are dropped.
            if (result.MessageType == WebSocketMessageType.Text)
            {
                hub.Broadcast(topicName, message.WrittenSpan.ToArray(), _subscriber);
            }

            message.ResetWrittenCount();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.CloseOutputAsync(status, statusDescription: null, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The peer is gone already; there is nobody left to tell.
        }
    }
}
