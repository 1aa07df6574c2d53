using System.Collections.Concurrent;
using OrleansVault.Gateway.Hosting;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>
/// Grain references of shared objects, made once per object and reused by every HTTP request and socket command.
/// Making a reference runs the generated proxy's constructor (service lookups that fall back to reflection), which a
/// profile of item writes showed at about 6% of the gateway's CPU when paid per request. References are immutable and
/// thread-safe. In cluster mode with direct routing a reference is made through the client of the silo that owns the
/// object (<see cref="SiloRouter"/>) and is remade when the routes change: callers get it per call, never keep it.
/// </summary>
public sealed class ObjectReferences(IGrainFactory grains, SiloRouter? router = null)
{
    /// <summary>Past this many objects the cache starts over rather than growing without bound.</summary>
    internal const int Capacity = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _references = new(StringComparer.Ordinal);

    public ISharedObjectGrain Get(string grainKey) => Route(grainKey).Grain;

    /// <summary>The object's reference, and the silo client it goes through when that is not the main client.</summary>
    public (ISharedObjectGrain Grain, IClusterClient? Direct) Route(string grainKey)
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

        var grain = entry?.Main ?? grains.GetGrain<ISharedObjectGrain>(grainKey);
        var direct = router?.DirectFor(grain.GetGrainId());
        var routed = direct?.GetGrain<ISharedObjectGrain>(grainKey) ?? grain;
        _references[grainKey] = new Entry(version, grain, routed, direct);
        return (routed, direct);
    }

    private sealed record Entry(long Version, ISharedObjectGrain Main, ISharedObjectGrain Grain, IClusterClient? Direct);
}
