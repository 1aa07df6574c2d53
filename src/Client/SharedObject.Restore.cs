using Microsoft.AspNetCore.SignalR.Client;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>Opening once, and restoring after a reconnect or an ended stream: open again, join again, resubscribe.</summary>
public sealed partial class SharedObject
{
    private static readonly TimeSpan ResubscribeDelay = TimeSpan.FromMilliseconds(500);
    private long _restoreRound;
    private long _openedOn = -1;

    /// <summary>What a restore attempt left to do.</summary>
    private enum RestoreStep
    {
        Done,
        Open,
        Join,
    }

    /// <summary>
    /// Raised when restoring the object after a reconnect failed for good (a permanent error such as a revoked
    /// object-id signature, see <see cref="VaultClientException.IsPermanent"/>): the object is then closed, as if
    /// disposed; open it again (with valid options) to go on. Also raised when only joining presence again failed for
    /// good (say an expired identity token): the object stays open and its events go on, without the presence entry.
    /// Transient failures are retried with growing waits and not raised.
    /// </summary>
    public event EventHandler<VaultClientException>? RestoreFailed;

    /// <summary>Whether the object was disposed (or its open failed).</summary>
    internal bool IsDisposed
    {
        get
        {
            lock (_lock)
            {
                return _disposed;
            }
        }
    }

    /// <summary>
    /// Opens the object once however many callers ask (single flight): the first call's open runs, with its
    /// cancellation token, and every caller awaits it. A failed or cancelled open disposes the object.
    /// </summary>
    internal Task OpenOnceAsync(CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _opening, mine, null) is { } running)
        {
            return running.Task;
        }

        _ = RunOpenAsync(mine, cancellationToken);
        return mine.Task;
    }

    /// <summary>
    /// Restores the object on the connection there is now. The first attempt is awaited; transient failures are
    /// retried in the background, permanent ones raise <see cref="RestoreFailed"/>. Never throws.
    /// </summary>
    /// <param name="reconnection">The client's connection number after a reconnect (an object already opened on it is left alone); null after an ended stream.</param>
    internal async Task RestoreAsync(long? reconnection)
    {
        var round = Interlocked.Increment(ref _restoreRound);
        var left = await RestoreStepAsync(RestoreStep.Open, reconnection);
        if (left != RestoreStep.Done)
        {
            _ = RetryRestoreAsync(round, left);
        }
    }

    private async Task RunOpenAsync(TaskCompletionSource done, CancellationToken cancellationToken)
    {
        try
        {
            await _restore.WaitAsync(cancellationToken);
            try
            {
                await OpenAsync(cancellationToken);
            }
            finally
            {
                _restore.Release();
            }

            done.TrySetResult();
        }
        catch (Exception error)
        {
            await DisposeAsync();
            if (error is OperationCanceledException)
            {
                done.TrySetCanceled(cancellationToken.IsCancellationRequested ? cancellationToken : CancellationToken.None);
            }
            else
            {
                done.TrySetException(error);
            }
        }
    }

    /// <summary>Opens the object and subscribes from the position the gateway reports.</summary>
    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        var opened = await OpenOnConnectionAsync(cancellationToken);
        lock (_lock)
        {
            _epoch = opened.Epoch;
            _lastSequence = opened.Sequence;
        }

        if (_options.Passphrase is { } passphrase)
        {
            await UseEncryptionAsync(passphrase, cancellationToken);
        }

        _opened = true;
        StartPump();
    }

    private async Task RetryRestoreAsync(long round, RestoreStep left)
    {
        for (var attempt = 1; left != RestoreStep.Done; attempt++)
        {
            try
            {
                await Task.Delay(ResubscribeDelay * Math.Min(attempt, 10), _lifetime.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Interlocked.Read(ref _restoreRound) != round)
            {
                // A newer restore (another reconnect) took over.
                return;
            }

            left = await RestoreStepAsync(left, reconnection: null);
        }
    }

    /// <summary>One attempt: open again (unless only the join is left), resubscribe after the last event seen, join again.</summary>
    private async Task<RestoreStep> RestoreStepAsync(RestoreStep from, long? reconnection)
    {
        VaultClientException? fatal = null;
        try
        {
            await _restore.WaitAsync(_lifetime.Token);
        }
        catch (OperationCanceledException)
        {
            return RestoreStep.Done;
        }

        try
        {
            // Never opened: its open runs on the connection there is then. Disconnected: the next reconnect restores it.
            if (!_opened || IsDisposed || _client.Hub.State != HubConnectionState.Connected
                || (reconnection is { } number && Volatile.Read(ref _openedOn) >= number))
            {
                return RestoreStep.Done;
            }

            if (from == RestoreStep.Open)
            {
                StopPump();
                await OpenOnConnectionAsync(_lifetime.Token);
                StartPump();
            }

            return await RejoinAsync();
        }
        catch (VaultClientException error) when (error.IsPermanent)
        {
            fatal = error;
            return RestoreStep.Done;
        }
        catch (VaultClientException error)
        {
            ClientLog.RestoreFailed(_logger, _handle, error.Code);
            return RestoreStep.Open;
        }
        catch (OperationCanceledException)
        {
            // Disposed meanwhile.
            return RestoreStep.Done;
        }
        finally
        {
            _restore.Release();
            if (fatal is not null)
            {
                ClientLog.RestoreAbandoned(_logger, _handle, fatal.Code);
                RaiseRestoreFailed(fatal);
                await DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Opens the object on the current connection and takes its handle and connection id; the caller decides whether the
    /// reported position is where events start (a first open) or the last event seen still is (a restore).
    /// </summary>
    private async Task<OpenResult> OpenOnConnectionAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _openedOn, _client.ConnectionNumber);
        var opened = await _client.InvokeAsync<OpenResult>(NativeProtocol.Methods.Open, [_target], cancellationToken);
        lock (_lock)
        {
            _handle = opened.Handle;
            ConnectionId = opened.ConnectionId;
        }

        return opened;
    }

    /// <summary>Joins presence again if joined; a permanent refusal drops the entry (reported) and the object goes on.</summary>
    private async Task<RestoreStep> RejoinAsync()
    {
        (string Json, int? KeyVersion)? presence;
        UserProof? proof;
        lock (_lock)
        {
            presence = _presence;
            proof = _presenceProof;
        }

        if (presence is not { } joined)
        {
            return RestoreStep.Done;
        }

        try
        {
            await _client.InvokeAsync(NativeProtocol.Methods.Join, [_handle, joined.Json, joined.KeyVersion, proof], _lifetime.Token);
            return RestoreStep.Done;
        }
        catch (VaultClientException error) when (error.IsPermanent)
        {
            lock (_lock)
            {
                if (_presence == presence && ReferenceEquals(_presenceProof, proof))
                {
                    _presence = null;
                    _presenceProof = null;
                }
            }

            ClientLog.RejoinAbandoned(_logger, _handle, error.Code);
            RaiseRestoreFailed(error);
            return RestoreStep.Done;
        }
        catch (VaultClientException error)
        {
            ClientLog.RestoreFailed(_logger, _handle, error.Code);
            return RestoreStep.Join;
        }
    }

    private void RaiseRestoreFailed(VaultClientException error)
    {
        try
        {
            RestoreFailed?.Invoke(this, error);
        }
        catch (Exception handlerError)
        {
            ClientLog.HandlerFailed(_logger, _handle, handlerError.GetType().Name);
        }
    }
}
