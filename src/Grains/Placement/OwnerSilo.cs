using Orleans.Placement;

namespace OrleansVault.Grains.Placement;

/// <summary>
/// Places a grain on the silo its identity hashes to among the active silos (rendezvous hashing: each silo scores the
/// grain, the highest score wins). Gateways compute the same owner and send each call straight to it, so a call crosses
/// no silo but the one holding the grain, and grains spread evenly over the silos, a silo that joins included.
/// A silo that joins or leaves moves only the grains it wins or held (about 1/N of them).
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class OwnerSiloPlacement : PlacementStrategy
{
    public static OwnerSiloPlacement Instance { get; } = new();
}

/// <summary>Places the grain class by <see cref="OwnerSiloPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class OwnerSiloPlacementAttribute() : PlacementAttribute(OwnerSiloPlacement.Instance);

/// <summary>The owner function gateways and silos share: the same grain and silos give the same owner in every process.</summary>
public static class OwnerSilo
{
    /// <summary>The silo among <paramref name="silos"/> that owns <paramref name="grain"/>; null without silos.</summary>
    public static SiloAddress? Of(GrainId grain, IReadOnlyList<SiloAddress> silos)
    {
        // Both hashes are Orleans' stable ones (the same in every process and run), unlike string.GetHashCode.
        var grainHash = (ulong)grain.GetUniformHashCode();
        SiloAddress? owner = null;
        ulong best = 0;
        foreach (var silo in silos)
        {
            var score = Mix((grainHash << 32) ^ (uint)silo.GetConsistentHashCode());
            if (owner is null || score > best || (score == best && silo.CompareTo(owner) < 0))
            {
                owner = silo;
                best = score;
            }
        }

        return owner;
    }

    // The SplitMix64 finalizer: spreads nearby inputs over the whole range, so no silo is favoured.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
