using System.Collections.Concurrent;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Limits;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// One native hub connection: who it is (checked before SignalR accepted it), the objects it opened, and the count of
/// events queued for it across all its subscriptions (over <see cref="NativeOptions.MaxQueuedEvents"/> it is dropped).
/// </summary>
public sealed class NativeConnection
{
    private readonly RateBucket? _rate;
    private readonly Lock _rateLock = new();
    private readonly int _maxQueued;
    private readonly Action<NativeConnection, string, string> _disconnect;
    private int _queued;
    private int _overflowed;
    private int _closed;

    internal NativeConnection(string hubConnectionId, NativeCredentials credentials, RateBucket? rate, int maxQueued, Action<NativeConnection, string, string> disconnect)
    {
        HubConnectionId = hubConnectionId;
        Credentials = credentials;
        _rate = rate;
        _maxQueued = maxQueued;
        _disconnect = disconnect;
    }

    public string HubConnectionId { get; }

    public NativeCredentials Credentials { get; }

    public Caller Caller => Credentials.Caller;

    /// <summary>The objects this connection opened, by handle (<c>class/id</c>).</summary>
    public ConcurrentDictionary<string, NativeObjectSession> Objects { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether the hub connection ended (its <c>OnDisconnectedAsync</c> began). Calls of the connection may still be in
    /// flight then (they run in parallel): one that registered something with an object checks this afterwards and undoes it.
    /// </summary>
    public bool IsClosed => Volatile.Read(ref _closed) == 1;

    /// <summary>Set once the connection counted against the connection limits (so it is released exactly once).</summary>
    public bool CountedTowardsLimits { get; set; }

    public bool TryTakeInvocation()
    {
        if (_rate is null)
        {
            return true;
        }

        lock (_rateLock)
        {
            return _rate.TryTake();
        }
    }

    /// <summary>Counts one more queued event; false (and the connection is being dropped) when that is one too many.</summary>
    internal bool TryQueue()
    {
        // Once over the limit, nothing more goes out: a later event after a dropped one would look like a normal gap.
        if (Volatile.Read(ref _overflowed) == 1)
        {
            return false;
        }

        if (Interlocked.Increment(ref _queued) <= _maxQueued)
        {
            return true;
        }

        Interlocked.Decrement(ref _queued);
        if (Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            _disconnect(this, Errors.ErrorCodes.SubscriberTooSlow, $"More than {_maxQueued} events were waiting to be sent to this connection; reconnect and resubscribe from the last sequence seen.");
        }

        return false;
    }

    internal void Dequeued() => Interlocked.Decrement(ref _queued);

    /// <summary>Marks the connection ended, before its objects are closed (so an open in flight sees it).</summary>
    internal void MarkClosed() => Interlocked.Exchange(ref _closed, 1);

    /// <summary>Drops the connection, telling the client why (the close message carries the code).</summary>
    public void Disconnect(string code, string message) => _disconnect(this, code, message);
}

/// <summary>What the gateway learned when it authenticated the hub request: the caller and the credentials to re-check per object.</summary>
public sealed record NativeCredentials(Caller Caller, string Authorization, string? Origin, string? ClientAddress);
