using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>The event stream: subscribing from the last event seen, and dispatching events in order without duplicates.</summary>
public sealed partial class SharedObject
{
    private const string StreamCompleted = "stream.completed";

    private void StartPump()
    {
        long after, epoch;
        CancellationTokenSource pump;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _pump?.Cancel();
            _pump?.Dispose();
            pump = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
            _pump = pump;
            after = _lastSequence;
            epoch = _epoch;
        }

        _ = PumpAsync(after, epoch, pump.Token);
    }

    private void StopPump()
    {
        lock (_lock)
        {
            _pump?.Cancel();
            _pump?.Dispose();
            _pump = null;
        }
    }

    private async Task PumpAsync(long after, long epoch, CancellationToken cancellationToken)
    {
        string reason;
        try
        {
            var stream = _client.Hub.StreamAsyncCore<ObjectEventData>(NativeProtocol.Methods.Subscribe, [_handle, after, epoch], cancellationToken);
            await foreach (var e in stream.WithCancellation(cancellationToken))
            {
                // Decrypted before the dispatch lock: an unknown key version fetches the settings, and keys derive slowly.
                Dispatch(e, await PlaintextOfAsync(e, cancellationToken));
            }

            // A normal end while the connection stays up: the gateway closed the object (say a Close from elsewhere).
            reason = StreamCompleted;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception error)
        {
            reason = VaultClient.Translate(error).Code;
        }

        if (cancellationToken.IsCancellationRequested || _client.Hub.State != HubConnectionState.Connected)
        {
            // Stopped here, or the connection dropped: the client's reconnect restores this object.
            return;
        }

        // The stream ended while the connection stayed up (the object was closed on the server, or the cluster did
        // not answer): open and resubscribe from the last event seen.
        ClientLog.StreamEnded(_logger, _handle, reason);
        try
        {
            await Task.Delay(ResubscribeDelay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _ = RestoreAsync(reconnection: null);
    }

    private void Dispatch(ObjectEventData data, string? plaintext)
    {
        VaultEvent e;
        Channel<VaultEvent>[] listeners;
        lock (_lock)
        {
            if (data.Kind == EventKind.Refetch)
            {
                _epoch = data.Epoch;
                _lastSequence = data.Sequence;
            }
            else
            {
                if (data.Epoch == _epoch && data.Sequence <= _lastSequence)
                {
                    // Already seen (a replay that overlapped live events): exactly once.
                    return;
                }

                _epoch = data.Epoch;
                _lastSequence = data.Sequence;
            }

            e = new VaultEvent(data, plaintext, _json);
            listeners = [.. _listeners];
        }

        Raise(e.Kind switch
        {
            EventKind.SetItem => ItemChanged,
            EventKind.RemoveItem => ItemRemoved,
            EventKind.Message => MessageReceived,
            EventKind.Refetch => RefetchRequired,
            _ => PresenceChanged,
        }, e);
        Raise(EventReceived, e);
        foreach (var listener in listeners)
        {
            if (!listener.Writer.TryWrite(e))
            {
                // Full: end that enumeration with an error rather than skip an event it would never know it missed.
                listener.Writer.TryComplete(new VaultClientException(ClientErrorCodes.EventsOverflow, $"More than {_client.Options.EventBufferSize} events waited for this enumeration of Events(); read the state again and enumerate anew."));
            }
        }
    }

    private void Raise(EventHandler<VaultEvent>? handler, VaultEvent e)
    {
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(this, e);
        }
        catch (Exception error)
        {
            // One application handler's bug must not stop the object's events.
            ClientLog.HandlerFailed(_logger, _handle, error.GetType().Name);
        }
    }

    private static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private Task<T> Invoke<T>(string method, object?[] args, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _client.InvokeAsync<T>(method, args, cancellationToken);
    }

    private Task Invoke(string method, object?[] args, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _client.InvokeAsync(method, args, cancellationToken);
    }

    private SetRequest Request<T>(string key, T value, SetOptions? options)
    {
        var (json, keyVersion) = _cipher.Seal(JsonSerializer.Serialize(value, _json));
        return new SetRequest(key, json, options?.Ttl is { } ttl ? (long)Math.Ceiling(ttl.TotalMilliseconds) : null, options?.IfAbsent ?? false, options?.IfUpdatedAt, keyVersion);
    }

    private VaultItem<T> ToItem<T>(ItemData item) =>
        new(JsonSerializer.Deserialize<T>(_cipher.Open(item.ValueJson, item.KeyVersion), _json)!, Time(item.CreatedAt), Time(item.UpdatedAt), Time(item.ExpiresAt));

    private async Task<Dictionary<string, VaultItem<T>>> ToItemsAsync<T>(Dictionary<string, ItemData> items, CancellationToken cancellationToken)
    {
        await LearnKeyVersionsAsync(items.Values.Select(i => i.KeyVersion), cancellationToken);
        return items.ToDictionary(p => p.Key, p => ToItem<T>(p.Value), StringComparer.Ordinal);
    }
}
