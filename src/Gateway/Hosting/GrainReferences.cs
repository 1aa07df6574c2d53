using System.Collections.Concurrent;

namespace OrleansVault.Gateway.Hosting;

/// <summary>
/// Grain references by key, made once per grain and reused by every request and socket command. Making a reference runs
/// the generated proxy's constructor (service lookups that fall back to reflection), which a profile of item writes
/// showed at about 6% of the gateway's CPU when paid per request. References are immutable and thread-safe. In cluster
/// mode with direct routing a reference is made through the client of the silo that owns the grain
/// (<see cref="SiloRouter"/>; grains placed by <c>OwnerSiloPlacement</c>) and is remade when the routes change: callers
/// get it per call, never keep it.
/// </summary>
public abstract class GrainReferences<TGrain>(IGrainFactory grains, SiloRouter? router)
    where TGrain : IGrainWithStringKey
{
    /// <summary>Past this many grains the cache starts over rather than growing without bound.</summary>
    internal const int Capacity = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _references = new(StringComparer.Ordinal);

    public TGrain Get(string grainKey) => Route(grainKey).Grain;

    /// <summary>The grain's reference, and the silo client it goes through when that is not the main client.</summary>
    public (TGrain Grain, IClusterClient? Direct) Route(string grainKey)
    {
        var version = router?.Version ?? 0;
        if (_references.TryGetValue(grainKey, out var entry) && entry.Version == version)
        {
            return (entry.Grain, entry.Direct);
        }

        if (_references.Count >= Capacity)
        {
            _references.Clear();
        }

        var grain = entry is null ? grains.GetGrain<TGrain>(grainKey) : entry.Main;
        var direct = router?.DirectFor(grain.GetGrainId());
        var routed = direct is null ? grain : direct.GetGrain<TGrain>(grainKey);
        _references[grainKey] = new Entry(version, grain, routed, direct);
        return (routed, direct);
    }

    private sealed record Entry(long Version, TGrain Main, TGrain Grain, IClusterClient? Direct);
}
