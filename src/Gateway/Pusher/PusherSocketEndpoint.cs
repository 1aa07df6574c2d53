using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// The Pusher door: <c>GET /app/{key}?protocol=7&amp;client=…&amp;version=…</c> (WIRE.md 2). Connection set-up, the
/// activity and authorization timers, and the close; each frame is handled by <see cref="PusherFrameHandler"/>.
/// </summary>
public sealed partial class PusherSocketEndpoint(
    PusherAppDirectory apps,
    PusherFrameHandler handler,
    ConnectionLimiter connectionLimiter,
    IOptions<PusherSocketOptions> pusherOptions,
    IOptions<LimitOptions> limits,
    IOptions<SocketOptions> socketOptions,
    TimeProvider time,
    IHostApplicationLifetime host,
    ILogger<PusherSocketEndpoint> logger)
{
    private readonly ConcurrentDictionary<string, PusherConnection> _open = new(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder app) =>
        app.Map("/app/{key}", (HttpContext context, string key, PusherSocketEndpoint endpoint) => endpoint.HandleAsync(context, key));

    public int Count => _open.Count;

    public async Task HandleAsync(HttpContext context, string key)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This endpoint only accepts WebSocket upgrades (Pusher protocol 7).");
            return;
        }

        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = socketOptions.Value.KeepAliveInterval,
            KeepAliveTimeout = socketOptions.Value.KeepAliveTimeout,
        });

        // Pusher refuses after the upgrade: a pusher:error, then a close in the 4000 range that tells pusher-js what to do.
        if (ProtocolProblem(context.Request.Query["protocol"].ToString()) is { } protocolProblem)
        {
            await RefuseAsync(webSocket, protocolProblem.Code, protocolProblem.Message);
            return;
        }

        var app = await apps.GetByKeyAsync(key);
        if (app is null)
        {
            await RefuseAsync(webSocket, 4001, "App key does not exist");
            return;
        }

        if (!app.Enabled)
        {
            await RefuseAsync(webSocket, 4003, "Application disabled");
            return;
        }

        var address = context.Connection.RemoteIpAddress?.ToString();
        var connection = new PusherConnection(webSocket, PusherSocketId.New(), app, limits.Value.MaxQueuedFrames, time);
        var counted = false;
        if (!app.AuthorizedConnections)
        {
            if (connectionLimiter.TryAcquire(LimiterScope(app), app.Key, address, app.MaxConnections) is not null)
            {
                await RefuseAsync(webSocket, 4004, "Application is over connection quota");
                return;
            }

            counted = true;
        }

        try
        {
            await ServeAsync(context, webSocket, connection, address, counted);
        }
        finally
        {
            if (connection.Authorized || counted)
            {
                connectionLimiter.Release(LimiterScope(app), app.Key, address);
            }
        }
    }

    private async Task ServeAsync(HttpContext context, WebSocket webSocket, PusherConnection connection, string? address, bool counted)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        _open[connection.SocketId] = connection;
        LogOpened(logger, connection.SocketId, connection.App.AppId);
        try
        {
            connection.Send(PusherFrames.ConnectionEstablished(connection.SocketId, pusherOptions.Value.ActivityTimeoutSeconds));

            // A gateway that stops says so with a "reconnect now" code, so pusher-js comes back (to another gateway if any).
            using var stopping = host.ApplicationStopping.Register(() => connection.CloseWithError(4200, "Server shutting down; reconnect"));
            var writer = connection.RunWriterAsync(lifetime.Token);
            var reader = ReceiveLoopAsync(webSocket, connection, address, counted, lifetime.Token);
            var watchdog = WatchAsync(connection, lifetime.Token);
            var first = await Task.WhenAny(writer, reader);
            if (first == reader)
            {
                connection.Complete();
            }

            await Task.WhenAny(Task.WhenAll(writer, reader), Task.Delay(socketOptions.Value.CloseTimeout, time));
            await lifetime.CancelAsync();
            await Task.WhenAll(Quietly(writer), Quietly(reader), Quietly(watchdog));
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.SocketFailed(logger, connection.SocketId, error.GetType().Name);
        }
        finally
        {
            _open.TryRemove(connection.SocketId, out _);
            await handler.DisconnectAsync(connection);
            LogClosed(logger, connection.SocketId, connection.TooSlow);
        }
    }

    private async Task ReceiveLoopAsync(WebSocket webSocket, PusherConnection connection, string? address, bool counted, CancellationToken cancellationToken)
    {
        var maxFrame = pusherOptions.Value.MaxFrameBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxFrame, 16 * 1024));
        var message = new ArrayBufferWriter<byte>();
        try
        {
            while (webSocket.State == WebSocketState.Open)
            {
                message.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await webSocket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        connection.Close(WebSocketCloseStatus.NormalClosure, "");
                        return;
                    }

                    if (message.WrittenCount + result.Count > maxFrame)
                    {
                        connection.CloseWithError(4300, $"Frame larger than {maxFrame} bytes");
                        return;
                    }

                    message.Write(buffer.AsSpan(0, result.Count));
                }
                while (!result.EndOfMessage);

                connection.MarkInbound();
                if (result.MessageType != WebSocketMessageType.Text)
                {
                    connection.Send(PusherFrames.Error(null, "Binary frames are not part of the Pusher protocol"));
                    continue;
                }

                var wasAuthorized = connection.Authorized;
                await handler.HandleAsync(connection, message.WrittenMemory);
                if (!wasAuthorized && connection.Authorized && !counted
                    && connectionLimiter.TryAcquire(LimiterScope(connection.App), connection.App.Key, address, connection.App.MaxConnections) is not null)
                {
                    // Authorized connections count once authorized; over the quota the socket goes.
                    connection.Authorized = false;
                    connection.CloseWithError(4004, "Application is over connection quota");
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // The client went away without a close handshake.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Pings a silent client after its activity timeout and closes it (4201) when the pong does not come; with authorized
    /// connections on, closes (4009) a connection that is still unauthorized after the authorization timeout.
    /// </summary>
    private async Task WatchAsync(PusherConnection connection, CancellationToken cancellationToken)
    {
        var options = pusherOptions.Value;
        var activity = TimeSpan.FromSeconds(options.ActivityTimeoutSeconds);
        var started = time.GetTimestamp();
        var pinged = false;
        var step = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, Math.Min(activity.Ticks, options.AuthorizationTimeout.Ticks) / 10));
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(step, time, cancellationToken);
            if (connection.App.AuthorizedConnections && !connection.Authorized && time.GetElapsedTime(started) >= options.AuthorizationTimeout)
            {
                connection.CloseWithError(4009, "Connection not authorized within timeout.");
                return;
            }

            var silent = connection.SinceLastInbound;
            if (silent < activity)
            {
                pinged = false;
            }
            else if (!pinged)
            {
                connection.Send(PusherFrames.Ping());
                pinged = true;
            }
            else if (silent >= activity + options.PongTimeout)
            {
                connection.CloseWithError(4201, "Pong reply not received");
                return;
            }
        }
    }

    private static (int Code, string Message)? ProtocolProblem(string protocol)
    {
        if (string.IsNullOrEmpty(protocol))
        {
            return (4008, "No protocol version supplied");
        }

        if (!int.TryParse(protocol, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            return (4006, "Invalid version string format");
        }

        return version is >= 5 and <= 7 ? null : (4007, "Unsupported protocol version");
    }

    private async Task RefuseAsync(WebSocket webSocket, int code, string message)
    {
        using var timeout = new CancellationTokenSource(socketOptions.Value.CloseTimeout);
        try
        {
            await webSocket.SendAsync(PusherFrames.Error(code, message), WebSocketMessageType.Text, true, timeout.Token);
            await webSocket.CloseOutputAsync((WebSocketCloseStatus)code, message, timeout.Token);
            while (webSocket.State == WebSocketState.CloseSent)
            {
                var result = await webSocket.ReceiveAsync(new byte[256], timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            // The client did not wait for the close.
        }
    }

    private static string LimiterScope(PusherApp app) => PusherScope + app.AppId;

    private const string PusherScope = "pusher:";

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The socket ended.
        }
    }

    [LoggerMessage(EventId = 3060, Level = LogLevel.Debug, Message = "Pusher socket {SocketId} opened for app {AppId}")]
    private static partial void LogOpened(ILogger logger, string socketId, string appId);

    [LoggerMessage(EventId = 3061, Level = LogLevel.Debug, Message = "Pusher socket {SocketId} closed (too slow: {TooSlow})")]
    private static partial void LogClosed(ILogger logger, string socketId, bool tooSlow);
}
