using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// The native door (<c>/hubs/vault</c>): shared objects over SignalR (JSON or MessagePack). A connection opens objects
/// (the object-ID signature is checked there, through the same policy code as the Vaultrice door), then calls
/// operations by the handle <c>Open</c> returned, and subscribes to numbered events it can resume from by sequence.
/// Errors are <see cref="HubException"/>s whose text starts with a stable code (<see cref="NativeErrorFilter"/>).
/// </summary>
public sealed partial class VaultHub(
    RequestAuthenticator auth,
    ObjectReferences objects,
    ObjectFeeds feeds,
    ConnectionLimiter connectionLimiter,
    NativeLifetimeManager lifetime,
    IOptions<NativeOptions> options,
    IOptions<LimitOptions> limits,
    TimeProvider time,
    ILogger<VaultHub> logger) : Hub
{
    internal const string ConnectionItem = "ov.native.connection";
    private const string ExpiryItem = "ov.native.expiry";

    /// <summary>The native state of a hub connection, once it is connected.</summary>
    public static NativeConnection? Connection(HubCallerContext context) =>
        context.Items.TryGetValue(ConnectionItem, out var value) ? value as NativeConnection : null;

    public override Task OnConnectedAsync()
    {
        if (Context.GetHttpContext()?.Items[NativeAuthMiddleware.CredentialsItem] is not NativeCredentials credentials)
        {
            // Only reachable if the hub were mapped without its authentication middleware.
            Context.Abort();
            return Task.CompletedTask;
        }

        var caller = credentials.Caller;
        var native = options.Value;
        var rate = caller.MessagesPerSecond is { } keyRate
            ? new RateBucket(keyRate, Math.Max(1, 2 * keyRate), time)
            : native.CallsPerSecond > 0 ? new RateBucket(native.CallsPerSecond, native.CallBurst, time) : null;
        var connection = new NativeConnection(Context.ConnectionId, credentials, rate, native.MaxQueuedEvents, (c, code, message) =>
        {
            GatewayLog.HubDisconnected(logger, c.HubConnectionId, code);
            lifetime.Disconnect(c.HubConnectionId, code, message, allowReconnect: code is not (ErrorCodes.ConnectionLimit or ErrorCodes.KeyDisabled));
        });
        Context.Items[ConnectionItem] = connection;

        if (connectionLimiter.TryAcquire(caller.ProjectId, caller.KeyId, credentials.ClientAddress, caller.MaxConnections) is { } overLimit)
        {
            GatewayLog.ConnectionLimit(logger, caller.ProjectId, caller.KeyId);
            connection.Disconnect(ErrorCodes.ConnectionLimit, "Over a connection limit: " + overLimit + ".");
            return Task.CompletedTask;
        }

        connection.CountedTowardsLimits = true;
        if (caller.TokenExpiresAt is { } expiresAt)
        {
            // An expired token ends the connection; automatic reconnect asks the token provider for a fresh one and resumes.
            var due = TimeSpan.FromMilliseconds(Math.Max(0, expiresAt - time.GetUtcNow().ToUnixTimeMilliseconds()));
            Context.Items[ExpiryItem] = time.CreateTimer(
                _ => connection.Disconnect(ErrorCodes.TokenExpired, "The access token expired; reconnect with a fresh one."), null, due, Timeout.InfiniteTimeSpan);
        }

        GatewayLog.HubConnected(logger, Context.ConnectionId, caller.ProjectId, caller.KeyId);
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(ExpiryItem, out var expiry) && expiry is IDisposable timer)
        {
            timer.Dispose();
        }

        if (Connection(Context) is not { } connection)
        {
            return;
        }

        // Before closing its objects: an Open or Join of this connection still in flight sees it and undoes itself.
        connection.MarkClosed();
        foreach (var handle in connection.Objects.Keys.ToArray())
        {
            if (connection.Objects.TryRemove(handle, out var session))
            {
                await CloseSessionAsync(session);
            }
        }

        if (connection.CountedTowardsLimits)
        {
            connectionLimiter.Release(connection.Caller.ProjectId, connection.Caller.KeyId, connection.Credentials.ClientAddress);
        }
    }

    /// <summary>Opens an object on this connection (idempotent): checks its id signature, attaches, and returns its handle and position.</summary>
    public async Task<OpenResult> Open(ObjectRef target)
    {
        var connection = Required();
        if (target is null)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "Name the object to open.");
        }

        var address = Names.Address(connection.Caller.ProjectId, target.Class, target.Id);
        var handle = address.Class + "/" + address.ObjectId;
        if (connection.Objects.TryGetValue(handle, out var open))
        {
            return open.Position();
        }

        if (connection.Objects.Count >= options.Value.MaxObjectsPerConnection)
        {
            throw VaultException.TooLarge(ErrorCodes.ObjectsPerConnection, $"At most {options.Value.MaxObjectsPerConnection} objects may be open on one connection; close some first.");
        }

        var credentials = connection.Credentials;
        await auth.AuthorizeObjectAsync(address, credentials.Authorization, credentials.Origin, target.IdSignature, target.IdSignatureKeyVersion?.ToString(CultureInfo.InvariantCulture));
        var session = new NativeObjectSession(connection, address, NewConnectionId(), objects);
        if (!connection.Objects.TryAdd(handle, session))
        {
            throw VaultException.Conflict(ErrorCodes.AlreadySubscribed, "This object is being opened by another call on this connection.");
        }

        try
        {
            session.Feed = await feeds.AddAsync(address.GrainKey, session);
            var attached = await session.Grain.Attach(session.ConnectionId, session.Owner, session.Feed.Reference);
            if (connection.IsClosed || session.IsClosed)
            {
                // The connection ended (or the object was closed) while this open was in flight: detach what it attached.
                throw VaultException.Validation(ErrorCodes.ObjectNotOpen, "The object was closed while it was being opened.");
            }

            return session.Start(attached.Epoch, attached.Sequence);
        }
        catch
        {
            connection.Objects.TryRemove(new KeyValuePair<string, NativeObjectSession>(handle, session));
            await CloseSessionAsync(session);
            throw;
        }
    }

    /// <summary>Closes an object on this connection: its presence entry leaves and its subscription ends.</summary>
    public async Task Close(string handle)
    {
        var connection = Required();
        if (connection.Objects.TryRemove(handle ?? string.Empty, out var session))
        {
            await CloseSessionAsync(session);
        }
    }

    /// <summary>
    /// Streams the object's events after <paramref name="afterSequence"/> in <paramref name="epoch"/> (both null: from
    /// now on): the gap from history first, or a <see cref="EventKind.Refetch"/> when history no longer covers it.
    /// </summary>
    public IAsyncEnumerable<ObjectEventData> Subscribe(string handle, long? afterSequence, long? epoch, CancellationToken cancellationToken) =>
        Translated(Session(handle).StreamAsync(afterSequence, epoch, cancellationToken), cancellationToken);

    private async IAsyncEnumerable<ObjectEventData> Translated(IAsyncEnumerable<ObjectEventData> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var events = source.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (Exception error) when (NativeErrorFilter.Translate(error, logger) is { } hubError)
            {
                throw hubError;
            }

            yield return events.Current;
        }
    }

    private async Task CloseSessionAsync(NativeObjectSession session)
    {
        session.Close();
        try
        {
            var reference = session.Feed?.Reference;
            if (session.Feed is { } feed)
            {
                await feed.RemoveAsync(session);
            }

            // Naming this gateway's feed: a detach that comes late never touches a connection another gateway holds.
            await session.Grain.Detach(session.ConnectionId, session.LastSent, reference);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The object's feed lease removes the connection on its own.
            GatewayLog.SocketFailed(logger, session.ConnectionId, error.GetType().Name);
        }
    }

    private NativeConnection Required() =>
        Connection(Context) ?? throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsMissing, "This connection is not authenticated.");

    private NativeObjectSession Session(string handle) =>
        Required().Objects.TryGetValue(handle ?? string.Empty, out var session)
            ? session
            : throw VaultException.Validation(ErrorCodes.ObjectNotOpen, "Open the object first and use the handle Open returned.");

    private static JsonDocument ParseJson(string? json, string name)
    {
        if (json is null)
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, $"{name} is required.");
        }

        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = AtomicOperations.MaxValueDepth });
        }
        catch (JsonException)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"{name} must be JSON text (at most {AtomicOperations.MaxValueDepth} levels deep).");
        }
    }

    private static string NewConnectionId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
