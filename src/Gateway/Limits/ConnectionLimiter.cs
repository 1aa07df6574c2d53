using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Options;

namespace OrleansVault.Gateway.Limits;

/// <summary>Counts this gateway's sockets per API key and per client address, so one key or one host cannot take them all.</summary>
public sealed class ConnectionLimiter(IOptions<LimitOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _byAddress = new(StringComparer.Ordinal);

    /// <summary>Counts a new socket; returns null when it fits, else the reason it does not (nothing is counted then).</summary>
    /// <param name="keyLimit">The key's own limit, when it has one; else <c>Vault:Limits:MaxConnectionsPerKey</c>.</param>
    public string? TryAcquire(string projectId, string keyId, string? address, int? keyLimit = null)
    {
        var key = projectId + "/" + keyId;
        var limit = keyLimit ?? options.Value.MaxConnectionsPerKey;
        if (Increment(_byKey, key) > limit)
        {
            Decrement(_byKey, key);
            return $"more than {limit} connections for this API key on this gateway";
        }

        if (address is not null && Increment(_byAddress, address) > options.Value.MaxConnectionsPerAddress)
        {
            Decrement(_byAddress, address);
            Decrement(_byKey, key);
            return $"more than {options.Value.MaxConnectionsPerAddress} connections from this address on this gateway";
        }

        return null;
    }

    public void Release(string projectId, string keyId, string? address)
    {
        Decrement(_byKey, projectId + "/" + keyId);
        if (address is not null)
        {
            Decrement(_byAddress, address);
        }
    }

    private static int Increment(ConcurrentDictionary<string, int> counts, string key) => counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    private static void Decrement(ConcurrentDictionary<string, int> counts, string key)
    {
        while (counts.TryGetValue(key, out var n))
        {
            if (n <= 1 ? counts.TryRemove(new KeyValuePair<string, int>(key, n)) : counts.TryUpdate(key, n - 1, n))
            {
                return;
            }
        }
    }
}
