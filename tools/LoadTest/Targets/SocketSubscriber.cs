using System.Net.WebSockets;
using OrleansVault.LoadTest.Metrics;

namespace OrleansVault.LoadTest.Targets;

/// <summary>A raw WebSocket subscriber: reads frames, records every stamped one as a delivery.</summary>
public sealed class SocketSubscriber : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly LoadMetrics _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private volatile bool _closing;

    public SocketSubscriber(ClientWebSocket socket, LoadMetrics metrics, byte[]? readyMarker)
    {
        _socket = socket;
        _metrics = metrics;
        if (readyMarker is null)
        {
            _ready.TrySetResult();
        }

        _loop = ReceiveAsync(readyMarker);
    }

    /// <summary>Completes when the server said the subscription is live (or at once, for doors that say nothing).</summary>
    public Task Ready => _ready.Task;

    public bool Open => _socket.State == WebSocketState.Open;

    public async ValueTask DisposeAsync()
    {
        _closing = true;
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Ending anyway.
        }

        await _stop.CancelAsync();
        await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(5)));
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveAsync(byte[]? readyMarker)
    {
        var buffer = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (!_closing)
                    {
                        _metrics.Error($"socket closed by server ({(int?)_socket.CloseStatus})");
                    }

                    _ready.TrySetException(new WebSocketException("closed before ready"));
                    return;
                }

                var head = buffer.AsSpan(0, result.Count);
                if (Payload.TryRead(head, out var ticks))
                {
                    _metrics.Delivered(ticks);
                }
                else if (readyMarker is not null && head.IndexOf(readyMarker) >= 0)
                {
                    _ready.TrySetResult();
                }

                // The stamp is near the start; the rest of a long frame is read and dropped.
                while (!result.EndOfMessage)
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        catch (Exception error) when (error is WebSocketException or ObjectDisposedException)
        {
            if (!_closing)
            {
                _metrics.Error("socket dropped");
            }

            _ready.TrySetException(error);
        }
    }
}
