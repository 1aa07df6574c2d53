using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>End-to-end encryption keys: learning key versions another client rotated to, for reads and for events alike.</summary>
public sealed partial class SharedObject
{
    private TaskCompletionSource? _keyRefresh;

    private async Task UseEncryptionAsync(string passphrase, CancellationToken cancellationToken)
    {
        var settings = await _client.InvokeAsync<EncryptionData>(NativeProtocol.Methods.GetEncryption, [_handle, null], cancellationToken);
        _cipher = EndToEndValues.Create(passphrase, _target, settings);
    }

    /// <summary>Before reading values labelled with a key version this client has not seen (another client rotated), fetch the settings again.</summary>
    private async Task LearnKeyVersionsAsync(IEnumerable<int?> keyVersions, CancellationToken cancellationToken)
    {
        if (_cipher is EndToEndValues values && keyVersions.Any(v => v is >= 0 && !values.Knows(v.Value)))
        {
            await RefreshKeysAsync(values, cancellationToken);
        }
    }

    /// <summary>
    /// Fetches the encryption settings again, one fetch at a time however many reads and events ask (single flight):
    /// a caller arriving while one runs waits for it. Deriving a new key (PBKDF2) happens here, never under the object's lock.
    /// </summary>
    private async Task RefreshKeysAsync(EndToEndValues values, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _keyRefresh, mine, null) is { } running)
        {
            await running.Task.WaitAsync(cancellationToken);
            return;
        }

        try
        {
            values.Update(await _client.InvokeAsync<EncryptionData>(NativeProtocol.Methods.GetEncryption, [_handle, null], _lifetime.Token));
            mine.TrySetResult();
        }
        catch (Exception error)
        {
            mine.TrySetException(error);
            _ = mine.Task.Exception;
            throw;
        }
        finally
        {
            Interlocked.CompareExchange(ref _keyRefresh, null, mine);
        }
    }

    /// <summary>
    /// The plaintext JSON of an event's value, message or presence data. A key version this client does not know yet
    /// (another client rotated) fetches the settings once first; what still cannot be decrypted is handed over as stored.
    /// </summary>
    private async Task<string?> PlaintextOfAsync(ObjectEventData data, CancellationToken cancellationToken)
    {
        var (stored, keyVersion) = data.Kind switch
        {
            EventKind.SetItem when data.Item is { } item => (item.ValueJson, item.KeyVersion),
            EventKind.Message or EventKind.PresenceJoin when data.PayloadJson is { } payload => (payload, data.KeyVersion),
            _ => ((string?)null, (int?)null),
        };
        if (stored is null)
        {
            return null;
        }

        try
        {
            if (_cipher is EndToEndValues values && keyVersion is >= 0 && !values.Knows(keyVersion.Value))
            {
                await RefreshKeysAsync(values, cancellationToken);
            }

            return _cipher.Open(stored, keyVersion);
        }
        catch (VaultClientException)
        {
            // Not decryptable with this passphrase (another key, or tampered), or the settings could not be fetched.
            return stored;
        }
    }
}
