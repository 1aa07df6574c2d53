using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansVault.Grains.Placement;

namespace OrleansVault.Hosting;

/// <summary>Activates an <see cref="OwnerSiloPlacement"/> grain on its owner among the silos compatible with it.</summary>
internal sealed class OwnerSiloPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        return Task.FromResult(OwnerSilo.Of(target.GrainIdentity, silos) ?? context.LocalSilo);
    }
}
