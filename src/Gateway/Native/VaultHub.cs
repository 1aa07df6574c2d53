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
public sealed class VaultHub(
    RequestAuthenticator auth,
    IClusterClient client,
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
            NativeLog.Disconnected(logger, c.HubConnectionId, code);
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

        NativeLog.Connected(logger, Context.ConnectionId, caller.ProjectId, caller.KeyId);
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
        var grain = client.GetGrain<ISharedObjectGrain>(address.GrainKey);
        var session = new NativeObjectSession(connection, address, NewConnectionId(), grain);
        if (!connection.Objects.TryAdd(handle, session))
        {
            throw VaultException.Conflict(ErrorCodes.AlreadySubscribed, "This object is being opened by another call on this connection.");
        }

        try
        {
            session.Feed = await feeds.AddAsync(address.GrainKey, session);
            var attached = await grain.Attach(session.ConnectionId, session.Owner, session.Feed.Reference);
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

    public async Task<ItemData?> Get(string handle, string key)
    {
        var session = Session(handle);
        Names.EnsureKey(key);
        return await session.Grain.GetItem(key) is { } item ? NativeMapping.ToItem(item) : null;
    }

    public async Task<Dictionary<string, ItemData>> GetMany(string handle, string[] keys)
    {
        var session = Session(handle);
        EnsureKeys(keys);
        return NativeMapping.ToItems(await session.Grain.GetItems(keys));
    }

    public async Task<Dictionary<string, ItemData>> GetAll(string handle, string? prefix) =>
        NativeMapping.ToItems(await Session(handle).Grain.GetAll(string.IsNullOrEmpty(prefix) ? null : prefix));

    public async Task<IReadOnlyList<string>> GetKeys(string handle, string? prefix) =>
        await Session(handle).Grain.GetKeys(string.IsNullOrEmpty(prefix) ? null : prefix);

    /// <summary>Writes one item; null when <see cref="SetRequest.IfAbsent"/> found a live item (nothing was written).</summary>
    public async Task<ItemData?> Set(string handle, SetRequest request)
    {
        var session = Session(handle);
        var command = Command(request);
        return await session.Grain.SetItem(command) is { } item ? NativeMapping.ToItem(item) : null;
    }

    public async Task<Dictionary<string, ItemData>> SetMany(string handle, SetRequest[] requests)
    {
        var session = Session(handle);
        if (requests is null || requests.Length == 0 || requests.Length > limits.Value.MaxItemsPerRequest)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"Send 1 to {limits.Value.MaxItemsPerRequest} items.");
        }

        if (requests.Any(r => r is null || r.IfAbsent || r.IfUpdatedAt is not null))
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "SetMany takes no IfAbsent or IfUpdatedAt conditions; use Set for a conditional write.");
        }

        return NativeMapping.ToItems(await session.Grain.SetItems([.. requests.Select(Command)]));
    }

    public async Task Remove(string handle, string key)
    {
        var session = Session(handle);
        Names.EnsureKey(key);
        await session.Grain.RemoveItems([key]);
    }

    public async Task RemoveMany(string handle, string[] keys)
    {
        var session = Session(handle);
        EnsureKeys(keys);
        await session.Grain.RemoveItems(keys);
    }

    public async Task Clear(string handle) => await Session(handle).Grain.Clear();

    /// <summary>Applies an atomic operation (increment, decrement, push, splice, merge, set-in) and returns the item after it.</summary>
    public async Task<ItemData> Apply(string handle, ApplyRequest request)
    {
        var session = Session(handle);
        if (request is null || !AtomicOperations.TryParseOperation(request.Operation ?? string.Empty, out var operation))
        {
            throw VaultException.Validation(ErrorCodes.OperationUnknown, "Unknown atomic operation; use increment, decrement, push, splice, merge or set-in.");
        }

        Names.EnsureKey(request.Key);
        using (var argument = ParseJson(request.ArgumentJson, "ArgumentJson"))
        {
            if (argument.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw VaultException.Validation(ErrorCodes.BodyMalformed, "ArgumentJson must be a JSON object, as the HTTP API's body.");
            }
        }

        if (request.TtlMs is <= 0)
        {
            throw VaultException.Validation(ErrorCodes.TtlInvalid, "TtlMs must be a positive number of milliseconds.");
        }

        var item = await session.Grain.Apply(new AtomicCommand(request.Key, operation, request.ArgumentJson, request.TtlMs, request.IfUpdatedAt));
        return NativeMapping.ToItem(item);
    }

    /// <summary>Sends a message to everyone on the object but this connection.</summary>
    public async Task SendMessage(string handle, string payloadJson, int? keyVersion, UserProof? proof)
    {
        var session = Session(handle);
        ParseJson(payloadJson, "PayloadJson").Dispose();
        EnsureKeyVersion(keyVersion);
        await VerifyIdentityAsync(session, payloadJson, proof);
        await session.Grain.SendMessage(new MessageCommand(payloadJson, keyVersion, session.ConnectionId));
    }

    public async Task Join(string handle, string dataJson, int? keyVersion, UserProof? proof)
    {
        var session = Session(handle);
        ParseJson(dataJson, "DataJson").Dispose();
        EnsureKeyVersion(keyVersion);
        var userId = await VerifyIdentityAsync(session, dataJson, proof);
        await session.Grain.Join(session.ConnectionId, dataJson, keyVersion, userId);
        session.Joined(new JoinedPresence(dataJson, keyVersion, userId));
        if (session.IsClosed)
        {
            // Closed (or its connection ended) while the join was in flight: its close may have left presence before
            // this join arrived, so leave again rather than keep an entry nobody will remove.
            session.Joined(null);
            await session.Grain.Leave(session.ConnectionId);
            throw VaultException.Validation(ErrorCodes.ObjectNotOpen, "The object was closed while joining its presence.");
        }
    }

    public async Task Leave(string handle)
    {
        var session = Session(handle);

        // Forgotten first: a feed restore in between must not join it again.
        session.Joined(null);
        await session.Grain.Leave(session.ConnectionId);
    }

    public async Task<MemberData[]> GetMembers(string handle) =>
        [.. (await Session(handle).Grain.GetPresence()).Select(NativeMapping.ToMember)];

    /// <summary>The object's end-to-end encryption settings (created with a random salt on first use).</summary>
    public async Task<EncryptionData> GetEncryption(string handle, int? saltLength) =>
        NativeMapping.ToEncryption(await Session(handle).Grain.GetEncryptionSettings(saltLength ?? 16));

    public async Task<EncryptionData> RotateEncryption(string handle, int? saltLength) =>
        NativeMapping.ToEncryption(await Session(handle).Grain.RotateEncryption(saltLength ?? 16));

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

    private async Task<string?> VerifyIdentityAsync(NativeObjectSession session, string payloadJson, UserProof? proof) =>
        await IdentityVerifier.VerifyAsync(
            await auth.ClassPolicyAsync(session.Address),
            payloadJson,
            proof is null ? null : new IdentityProof(proof.IdentityToken, proof.UserIdSignature));

    private NativeConnection Required() =>
        Connection(Context) ?? throw new VaultException(VaultErrorKind.Unauthenticated, ErrorCodes.CredentialsMissing, "This connection is not authenticated.");

    private NativeObjectSession Session(string handle) =>
        Required().Objects.TryGetValue(handle ?? string.Empty, out var session)
            ? session
            : throw VaultException.Validation(ErrorCodes.ObjectNotOpen, "Open the object first and use the handle Open returned.");

    private void EnsureKeys(string[] keys)
    {
        if (keys is null || keys.Length > limits.Value.MaxItemsPerRequest)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"Send at most {limits.Value.MaxItemsPerRequest} item names.");
        }

        foreach (var key in keys)
        {
            Names.EnsureKey(key);
        }
    }

    private static SetItemCommand Command(SetRequest request)
    {
        if (request is null)
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, "Send the item to write.");
        }

        Names.EnsureKey(request.Key);
        ParseJson(request.ValueJson, "ValueJson").Dispose();
        EnsureKeyVersion(request.KeyVersion);
        if (request.TtlMs is <= 0)
        {
            throw VaultException.Validation(ErrorCodes.TtlInvalid, "TtlMs must be a positive number of milliseconds.");
        }

        return new SetItemCommand(request.Key, request.ValueJson, request.TtlMs, request.IfAbsent, request.IfUpdatedAt, request.KeyVersion);
    }

    private static void EnsureKeyVersion(int? keyVersion)
    {
        if (keyVersion is < 0)
        {
            throw VaultException.Validation(ErrorCodes.KeyVersionInvalid, "KeyVersion must be a non-negative integer.");
        }
    }

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
