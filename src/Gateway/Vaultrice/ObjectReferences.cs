using OrleansVault.Gateway.Hosting;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>References of shared objects (<see cref="GrainReferences{TGrain}"/>), for the Vaultrice and native doors.</summary>
public sealed class ObjectReferences(IGrainFactory grains, SiloRouter? router = null) : GrainReferences<ISharedObjectGrain>(grains, router);
