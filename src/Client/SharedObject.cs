using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>
/// One shared object: typed reads and writes, atomic operations, messages, presence, and its live events (as C# events
/// and as <see cref="Events"/>). Events arrive in sequence order, each once: after a reconnect the object resubscribes
/// from the last sequence it saw and gets exactly the gap, or <see cref="RefetchRequired"/> when the server's history
/// no longer covers it.
/// </summary>
public sealed partial class SharedObject : IAsyncDisposable
{
    private readonly VaultClient _client;
    private readonly ObjectRef _target;
    private readonly OpenOptions _options;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _restore = new(1, 1);
    private readonly List<Channel<VaultEvent>> _listeners = [];
    private readonly CancellationTokenSource _lifetime;
    private IValueCipher _cipher = PlainValues.Instance;
    private CancellationTokenSource? _pump;
    private TaskCompletionSource? _opening;
    private bool _opened;
    private (string Json, int? KeyVersion)? _presence;
    private UserProof? _presenceProof;
    private string _handle = string.Empty;
    private long _epoch;
    private long _lastSequence;
    private bool _disposed;

    internal SharedObject(VaultClient client, ObjectRef target, OpenOptions options)
    {
        _client = client;
        _target = target;
        _options = options;
        _json = client.Options.JsonOptions ?? JsonSerializerOptions.Web;
        _logger = client.Options.LoggerFactory?.CreateLogger<SharedObject>() ?? NullLogger<SharedObject>.Instance;
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(client.Disposing);
    }

    /// <summary>Raised for every event (after the specific event below).</summary>
    public event EventHandler<VaultEvent>? EventReceived;

    /// <summary>An item was written (by anyone, this client included).</summary>
    public event EventHandler<VaultEvent>? ItemChanged;

    /// <summary>An item was removed.</summary>
    public event EventHandler<VaultEvent>? ItemRemoved;

    /// <summary>Another connection sent a message.</summary>
    public event EventHandler<VaultEvent>? MessageReceived;

    /// <summary>A connection joined or left presence.</summary>
    public event EventHandler<VaultEvent>? PresenceChanged;

    /// <summary>
    /// Events were missed that the server can no longer replay (or it lost history): read the state again
    /// (<see cref="GetAllAsync{T}"/>). Events after this one follow as usual.
    /// </summary>
    public event EventHandler<VaultEvent>? RefetchRequired;

    /// <summary>The object's class.</summary>
    public string Class => _target.Class;

    /// <summary>The object's id.</summary>
    public string Id => _target.Id;

    /// <summary>This client's connection id on the object (presence shows it; it changes after a reconnect).</summary>
    public string ConnectionId { get; private set; } = string.Empty;

    /// <summary>The sequence number of the last event this object received.</summary>
    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _lastSequence;
            }
        }
    }

    /// <summary>Whether values, messages and presence data are end-to-end encrypted.</summary>
    public bool IsEncrypted => _cipher is not PlainValues;

    /// <summary>
    /// The object's live events from now on; each enumeration gets every event once, in order. An enumeration that falls
    /// <see cref="VaultClientOptions.EventBufferSize"/> events behind is never silently thinned out: once it has read
    /// what was buffered, it ends with a <see cref="VaultClientException"/> coded
    /// <see cref="ClientErrorCodes.EventsOverflow"/> (read the state again and enumerate anew). The C# events never drop.
    /// </summary>
    public async IAsyncEnumerable<VaultEvent> Events([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<VaultEvent>(new BoundedChannelOptions(_client.Options.EventBufferSize)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        lock (_lock)
        {
            _listeners.Add(channel);
        }

        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            lock (_lock)
            {
                _listeners.Remove(channel);
            }
        }
    }

    /// <summary>Reads one item; null when it does not exist or expired.</summary>
    public async Task<VaultItem<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var item = await Invoke<ItemData?>(NativeProtocol.Methods.Get, [_handle, key], cancellationToken);
        if (item is null)
        {
            return null;
        }

        await LearnKeyVersionsAsync([item.KeyVersion], cancellationToken);
        return ToItem<T>(item);
    }

    /// <summary>Reads one item's value; default when it does not exist.</summary>
    public async Task<T?> GetValueAsync<T>(string key, CancellationToken cancellationToken = default) =>
        await GetAsync<T>(key, cancellationToken) is { } item ? item.Value : default;

    /// <summary>Reads several items; missing ones are absent from the result.</summary>
    public async Task<IReadOnlyDictionary<string, VaultItem<T>>> GetManyAsync<T>(IEnumerable<string> keys, CancellationToken cancellationToken = default) =>
        await ToItemsAsync<T>(await Invoke<Dictionary<string, ItemData>>(NativeProtocol.Methods.GetMany, [_handle, keys.ToArray()], cancellationToken), cancellationToken);

    /// <summary>Reads every live item, or those whose names start with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyDictionary<string, VaultItem<T>>> GetAllAsync<T>(string? prefix = null, CancellationToken cancellationToken = default) =>
        await ToItemsAsync<T>(await Invoke<Dictionary<string, ItemData>>(NativeProtocol.Methods.GetAll, [_handle, prefix], cancellationToken), cancellationToken);

    /// <summary>
    /// Starts a new end-to-end encryption key version for the object (its new salt); later writes use it, older values
    /// stay readable. Only for objects opened with a passphrase.
    /// </summary>
    public async Task RotateEncryptionAsync(CancellationToken cancellationToken = default)
    {
        if (_cipher is not EndToEndValues values)
        {
            throw new InvalidOperationException("Open the object with a passphrase to rotate its encryption key.");
        }

        values.Update(await Invoke<EncryptionData>(NativeProtocol.Methods.RotateEncryption, [_handle, null], cancellationToken));
    }

    /// <summary>The names of the live items, or those starting with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<string>> GetKeysAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        await Invoke<List<string>>(NativeProtocol.Methods.GetKeys, [_handle, prefix], cancellationToken);

    /// <summary>
    /// Writes one item. Returns the stored item's times, or null when <see cref="SetOptions.IfAbsent"/> found a live item.
    /// A failed <see cref="SetOptions.IfUpdatedAt"/> condition throws with code <c>conflictError.updatedAt.mismatch</c>.
    /// </summary>
    public async Task<VaultItem<T>?> SetAsync<T>(string key, T value, SetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Request(key, value, options);
        var item = await Invoke<ItemData?>(NativeProtocol.Methods.Set, [_handle, request], cancellationToken);
        return item is null ? null : new VaultItem<T>(value, Time(item.CreatedAt), Time(item.UpdatedAt), Time(item.ExpiresAt));
    }

    /// <summary>Writes several items at once (one event each).</summary>
    public async Task SetManyAsync<T>(IReadOnlyDictionary<string, T> values, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var requests = values.Select(p => Request(p.Key, p.Value, new SetOptions { Ttl = ttl })).ToArray();
        await Invoke<Dictionary<string, ItemData>>(NativeProtocol.Methods.SetMany, [_handle, requests], cancellationToken);
    }

    /// <summary>Removes one item (an event is sent whether or not it existed).</summary>
    public Task RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        Invoke(NativeProtocol.Methods.Remove, [_handle, key], cancellationToken);

    /// <summary>Removes several items.</summary>
    public Task RemoveManyAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default) =>
        Invoke(NativeProtocol.Methods.RemoveMany, [_handle, keys.ToArray()], cancellationToken);

    /// <summary>Removes every item.</summary>
    public Task ClearAsync(CancellationToken cancellationToken = default) =>
        Invoke(NativeProtocol.Methods.Clear, [_handle], cancellationToken);

    /// <summary>Sends a message to every other connection on the object.</summary>
    public Task SendMessageAsync<T>(T message, UserProof? proof = null, CancellationToken cancellationToken = default)
    {
        var (json, keyVersion) = _cipher.Seal(JsonSerializer.Serialize(message, _json));
        return Invoke(NativeProtocol.Methods.SendMessage, [_handle, json, keyVersion, proof], cancellationToken);
    }

    /// <summary>Joins presence with <paramref name="data"/>; the client joins again by itself after a reconnect.</summary>
    public async Task JoinAsync<T>(T data, UserProof? proof = null, CancellationToken cancellationToken = default)
    {
        var sealedData = _cipher.Seal(JsonSerializer.Serialize(data, _json));
        await Invoke(NativeProtocol.Methods.Join, [_handle, sealedData.Json, sealedData.KeyVersion, proof], cancellationToken);
        lock (_lock)
        {
            _presence = sealedData;
            _presenceProof = proof;
        }
    }

    /// <summary>Leaves presence.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _presence = null;
            _presenceProof = null;
        }

        await Invoke(NativeProtocol.Methods.Leave, [_handle], cancellationToken);
    }

    /// <summary>Who is present (joined) on the object.</summary>
    public async Task<IReadOnlyList<VaultMember>> GetMembersAsync(CancellationToken cancellationToken = default)
    {
        var members = await Invoke<MemberData[]>(NativeProtocol.Methods.GetMembers, [_handle], cancellationToken);
        await LearnKeyVersionsAsync(members.Select(m => m.KeyVersion), cancellationToken);
        return [.. members.Select(m => new VaultMember(m.ConnectionId, Time(m.JoinedAt), _cipher.Open(m.DataJson, m.KeyVersion), m.VerifiedUserId))];
    }

    /// <summary>Closes the object on the connection: leaves presence and stops its events.</summary>
    public async ValueTask DisposeAsync()
    {
        CancellationTokenSource? pump;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            pump = _pump;
            _pump = null;
            foreach (var listener in _listeners)
            {
                listener.Writer.TryComplete();
            }
        }

        _client.Forget(this);

        // Stops a restore under way (its waits and calls) as well as the event pump.
        await _lifetime.CancelAsync();
        if (pump is not null)
        {
            await pump.CancelAsync();
            pump.Dispose();
        }

        if (_handle.Length > 0 && _client.Hub.State == HubConnectionState.Connected)
        {
            using var timeout = new CancellationTokenSource(_client.Options.CloseTimeout);
            try
            {
                await _client.InvokeAsync(NativeProtocol.Methods.Close, [_handle], timeout.Token);
            }
            catch (Exception error) when (error is VaultClientException || (error is OperationCanceledException && timeout.IsCancellationRequested))
            {
                // The gateway closes the object with the connection anyway.
            }
        }
    }
}
