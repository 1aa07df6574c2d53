using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.WebSockets;

/// <summary>The Vaultrice WebSocket door: <c>GET /project/{projectId}/ws/{class}/{id}?auth=…</c> (WIRE.md 1.6).</summary>
public sealed class VaultriceSocketEndpoint(
    RequestAuthenticator auth,
    ObjectReferences objects,
    ObjectFeeds feeds,
    ConnectionLimiter connectionLimiter,
    IOptions<LimitOptions> limits,
    IOptions<SocketOptions> socketOptions,
    TimeProvider time,
    IHostApplicationLifetime host,
    ILogger<VaultriceSocketEndpoint> logger)
{
    private readonly ConcurrentDictionary<string, VaultSocket> _local = new(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder app) =>
        app.Map("/project/{projectId}/ws/{cls}/{id}", (HttpContext context, string projectId, string cls, string id, VaultriceSocketEndpoint endpoint) =>
            endpoint.HandleAsync(context, projectId, cls, id));

    /// <summary>The socket's object, looked up per call: in a cluster the route to it can change while the socket is open.</summary>
    private ISharedObjectGrain Grain(VaultSocket socket) => objects.Get(socket.ObjectKey);

    /// <summary>How many sockets this gateway holds.</summary>
    public int Count => _local.Count;

    /// <summary>The sockets open on this gateway (a resumed socket is listed under both ids, so once per socket here).</summary>
    public IEnumerable<VaultSocket> OpenSockets => _local.Values.Distinct();

    public async Task HandleAsync(HttpContext context, string projectId, string cls, string id)
    {
        // Everything is checked before the upgrade, so a refused client gets a status and a JSON body.
        var address = Names.Address(projectId, cls, id);
        var origin = context.Request.Headers.Origin.ToString();
        var query = context.Request.Query;
        var caller = await auth.AuthorizeObjectAsync(
            address,
            query["auth"].ToString(),
            string.IsNullOrEmpty(origin) ? null : origin,
            query["idSignature"].ToString(),
            query["idSignatureKeyVersion"].ToString());
        if (!context.WebSockets.IsWebSocketRequest)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "This endpoint only accepts WebSocket upgrades.");
        }

        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = socketOptions.Value.KeepAliveInterval,
            KeepAliveTimeout = socketOptions.Value.KeepAliveTimeout,
        });

        // Over a connection limit the socket is accepted and closed at once with TierLimitExceeded: the SDK then stops
        // retrying, where a refused handshake would make it try again and again.
        var clientAddress = context.Connection.RemoteIpAddress?.ToString();
        if (connectionLimiter.TryAcquire(address.ProjectId, caller.KeyId, clientAddress, caller.MaxConnections) is { } overLimit)
        {
            GatewayLog.ConnectionLimit(logger, address.ProjectId, caller.KeyId);
            await CloseForLimitAsync(webSocket, overLimit);
            return;
        }

        try
        {
            await ServeAsync(context, webSocket, address, caller);
        }
        finally
        {
            connectionLimiter.Release(address.ProjectId, caller.KeyId, clientAddress);
        }
    }

    private async Task ServeAsync(HttpContext context, WebSocket webSocket, ObjectAddress address, Caller caller)
    {
        var socket = new VaultSocket(webSocket, NewConnectionId(), caller.KeyId, address.GrainKey, limits.Value.MaxQueuedFrames);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        ObjectFeed? feed = null;
        try
        {
            _local[socket.ConnectionId] = socket;
            feed = await feeds.AddAsync(address.GrainKey, socket);
            var attached = await Grain(socket).Attach(socket.ConnectionId, socket.Owner, feed.Reference);
            socket.Start(attached.Epoch, attached.Sequence, VaultriceJson.ControlFrame("connected", socket.ConnectionId));
            GatewayLog.SocketOpened(logger, socket.ConnectionId, address.GrainKey);

            using var expiry = ScheduleExpiry(socket, caller);

            // A gateway that stops says so (1001), so clients reconnect, to another gateway if there is one, and resume.
            using var stopping = host.ApplicationStopping.Register(() => socket.Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down"));
            var writer = socket.RunWriterAsync(lifetime.Token);
            var reader = ReceiveLoopAsync(webSocket, socket, caller.MessagesPerSecond, lifetime.Token);
            // Whichever side ends first, give the other a bounded moment to finish the close handshake.
            var linger = socketOptions.Value.CloseTimeout;
            var first = await Task.WhenAny(writer, reader);
            if (first == reader)
            {
                socket.CompleteQueue();
            }

            await Task.WhenAny(Task.WhenAll(writer, reader), Task.Delay(linger, time));
            await lifetime.CancelAsync();
            await Task.WhenAll(Quietly(writer), Quietly(reader));
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.SocketFailed(logger, socket.ConnectionId, error.GetType().Name);
        }
        finally
        {
            if (socket.TooSlow)
            {
                GatewayLog.SocketTooSlow(logger, socket.ConnectionId);
            }

            await CleanUpAsync(socket, feed);
            GatewayLog.SocketClosed(logger, socket.ConnectionId);
        }
    }

    private async Task CloseForLimitAsync(WebSocket webSocket, string reason)
    {
        using var timeout = new CancellationTokenSource(socketOptions.Value.CloseTimeout);
        try
        {
            await webSocket.CloseAsync(LimitCloseStatus, TierLimit + reason, timeout.Token);
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException)
        {
            // The client went away first.
        }
    }

    private async Task ReceiveLoopAsync(WebSocket webSocket, VaultSocket socket, double? keyRate, CancellationToken cancellationToken)
    {
        var maxFrame = limits.Value.MaxFrameBytes;

        // A key's own rate (set through the admin API) replaces the node's, with a burst of two seconds' worth.
        var perSecond = keyRate ?? limits.Value.MessagesPerSecond;
        var rate = new RateBucket(perSecond, keyRate is { } r ? Math.Max(1, 2 * r) : limits.Value.MessageBurst, time);
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (webSocket.State == WebSocketState.Open)
        {
            buffer.Clear();
            var tooLarge = false;
            ValueWebSocketReceiveResult result;
            do
            {
                // Past the limit the rest of the frame is read into the same space and dropped: memory stays bounded.
                var space = tooLarge ? buffer.GetMemory(4096)[..4096] : buffer.GetMemory(4096);
                result = await webSocket.ReceiveAsync(space, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    socket.Close(WebSocketCloseStatus.NormalClosure, "bye");
                    return;
                }

                if (!tooLarge)
                {
                    buffer.Advance(result.Count);
                    tooLarge = buffer.WrittenCount > maxFrame;
                }
            }
            while (!result.EndOfMessage);

            if (!rate.TryTake())
            {
                // A flood: close for good (the SDK does not reconnect after TierLimitExceeded); nothing of this frame is applied.
                GatewayLog.MessageRateLimit(logger, socket.ConnectionId);
                socket.Close(LimitCloseStatus, $"{TierLimit}more than {perSecond} frames per second");
                return;
            }

            if (tooLarge)
            {
                socket.Send(VaultriceJson.ControlFrame("error", payload: $"Frame too large: at most {maxFrame} bytes. It was dropped."));
                continue;
            }

            if (result.MessageType != WebSocketMessageType.Text)
            {
                socket.Send(VaultriceJson.ControlFrame("error", payload: "Only JSON text frames are accepted."));
                continue;
            }

            await HandleFrameAsync(buffer.WrittenMemory, socket);
        }
    }

    private async Task HandleFrameAsync(ReadOnlyMemory<byte> frame, VaultSocket socket)
    {
        try
        {
            using var document = RequestBody.Parse(frame);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw VaultException.Validation(ErrorCodes.EventUnknown, "A frame is a JSON object with an 'event' name.");
            }

            switch (name.GetString())
            {
                case "ping":
                    socket.SendUrgent(Pong);
                    break;
                case "message":
                {
                    var payload = Payload(root);
                    await VerifyIdentityAsync(socket, payload, root);
                    await Grain(socket).SendMessage(new MessageCommand(payload, KeyVersion(root), socket.ConnectionId));
                    break;
                }

                case "presence:join":
                {
                    var payload = Payload(root);
                    var userId = await VerifyIdentityAsync(socket, payload, root);
                    var keyVersion = KeyVersion(root);
                    await Grain(socket).Join(socket.ConnectionId, payload, keyVersion, userId);
                    socket.Joined(new JoinedPresence(payload, keyVersion, userId));
                    break;
                }

                case "presence:leave":
                    // Forgotten first: a feed restore in between must not join it again.
                    socket.Joined(null);
                    await Grain(socket).Leave(socket.ConnectionId);
                    break;
                case "resume":
                    await ResumeAsync(root, socket);
                    break;
                default:
                    throw VaultException.Validation(ErrorCodes.EventUnknown, "Unknown event.");
            }
        }
        catch (VaultException error)
        {
            socket.Send(VaultriceJson.ControlFrame("error", payload: error.Message));
        }
        catch (Exception error) when (error is TimeoutException or OrleansException)
        {
            GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
            socket.Send(Unavailable);
        }
    }

    /// <summary>Checks the event's <c>auth</c> against the class's identity policy (WIRE 1.7); a failure is an error event and nothing is sent.</summary>
    private async Task<string?> VerifyIdentityAsync(VaultSocket socket, string payload, JsonElement root)
    {
        var policy = await auth.ClassPolicyAsync(ObjectAddress.Parse(socket.ObjectKey));
        return await IdentityVerifier.VerifyAsync(policy, payload, IdentityProof.FromSocketEvent(root));
    }

    private async Task ResumeAsync(JsonElement root, VaultSocket socket)
    {
        if (!root.TryGetProperty("connectionId", out var idElement) || idElement.ValueKind != JsonValueKind.String
            || idElement.GetString() is not { Length: > 0 and <= 64 } oldId)
        {
            socket.Send(InvalidResume);
            return;
        }

        if (oldId == socket.ConnectionId)
        {
            socket.Send(VaultriceJson.ControlFrame("resume:ack", oldId));
            return;
        }

        // The old socket may still look open here (its client gave up on it first). If the same key owns it,
        // drop it at once (nobody is listening for a close handshake) and wait for its detach.
        if (_local.TryGetValue(oldId, out var stale) && string.Equals(stale.Owner, socket.Owner, StringComparison.Ordinal))
        {
            stale.Abort();
            await Task.WhenAny(stale.Closed.Task, Task.Delay(socketOptions.Value.CloseTimeout, time));
        }

        // Reserve the old id here first, so two resumes of one id cannot both win.
        if (!_local.TryAdd(oldId, socket))
        {
            socket.Send(InvalidResume);
            return;
        }

        var upTo = socket.Hold();
        var newId = socket.ConnectionId;
        ResumeResult result;
        try
        {
            result = await Grain(socket).Resume(oldId, newId, socket.Owner, upTo);
        }
        catch
        {
            _local.TryRemove(new KeyValuePair<string, VaultSocket>(oldId, socket));
            socket.ReleaseWith(InvalidResume);
            throw;
        }

        if (!result.Resumed)
        {
            _local.TryRemove(new KeyValuePair<string, VaultSocket>(oldId, socket));
            socket.ReleaseWith(InvalidResume);
            return;
        }

        _local.TryRemove(new KeyValuePair<string, VaultSocket>(newId, socket));
        socket.CompleteResume(oldId, VaultriceJson.ControlFrame("resume:ack", oldId), [.. result.Missed.Select(e => (e, VaultriceJson.EventFrame(e)))]);
    }

    private async Task CleanUpAsync(VaultSocket socket, ObjectFeed? feed)
    {
        try
        {
            _local.TryRemove(new KeyValuePair<string, VaultSocket>(socket.ConnectionId, socket));
            var reference = feed?.Reference;
            if (feed is not null)
            {
                await feed.RemoveAsync(socket);
            }

            // Naming this gateway's feed: if another gateway took the connection over meanwhile, this detaches nothing.
            await Grain(socket).Detach(socket.ConnectionId, socket.LastSent, reference);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            GatewayLog.SocketFailed(logger, socket.ConnectionId, error.GetType().Name);
        }
        finally
        {
            socket.Closed.TrySetResult();
        }
    }

    /// <summary>Closes the socket with 4001 when its access token expires; the SDK reconnects with a fresh token and resumes.</summary>
    private ITimer? ScheduleExpiry(VaultSocket socket, Caller caller)
    {
        if (caller.TokenExpiresAt is not { } expiresAt)
        {
            return null;
        }

        var due = TimeSpan.FromMilliseconds(Math.Max(0, expiresAt - time.GetUtcNow().ToUnixTimeMilliseconds()));
        return time.CreateTimer(_ => socket.Close((WebSocketCloseStatus)4001, "token expired"), null, due, Timeout.InfiniteTimeSpan);
    }

    private static string Payload(JsonElement root) =>
        root.TryGetProperty("payload", out var payload) ? payload.GetRawText() : "null";

    private static int? KeyVersion(JsonElement root)
    {
        if (!root.TryGetProperty("keyVersion", out var version) || version.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var value) || value < 0)
        {
            throw VaultException.Validation(ErrorCodes.KeyVersionInvalid, "keyVersion must be a non-negative integer.");
        }

        return value;
    }

    private static string NewConnectionId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException or ObjectDisposedException or System.Threading.Channels.ChannelClosedException)
        {
            // The socket is ending either way.
        }
    }

    /// <summary>Closes for a limit: the reason starts with <see cref="TierLimit"/>, which tells the SDK not to reconnect.</summary>
    private const WebSocketCloseStatus LimitCloseStatus = (WebSocketCloseStatus)4029;
    private const string TierLimit = "TierLimitExceeded: ";
    private static readonly byte[] Pong = VaultriceJson.ControlFrame("pong");
    private static readonly byte[] Unavailable = VaultriceJson.ControlFrame("error", payload: ErrorResponses.UnavailableMessage);
    private static readonly byte[] InvalidResume = VaultriceJson.ControlFrame("error", payload: "Invalid resume token");
}
