using OrleansVault.Channels;

namespace OrleansVault.Grains.Channels;

/// <summary>
/// The signatures of one app's REST requests within the timestamp window, in memory: one place in the cluster, so a
/// replay through another gateway is refused too. (A silo crash forgets them; the timestamp window still bounds replays.)
/// </summary>
public sealed class RestReplayGuardGrain(TimeProvider time) : Grain, IRestReplayGuardGrain
{
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, long> _expiry = new();

    public Task<bool> TryUse(string signature, long expiresAt)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        while (_expiry.TryPeek(out var oldest, out var until) && until < now)
        {
            _expiry.Dequeue();
            if (_seen.TryGetValue(oldest, out var recorded) && recorded == until)
            {
                _seen.Remove(oldest);
            }
        }

        if (_seen.ContainsKey(signature))
        {
            return Task.FromResult(false);
        }

        _seen[signature] = expiresAt;
        _expiry.Enqueue(signature, expiresAt);
        return Task.FromResult(true);
    }
}
