using OrleansVault.Channels;
using OrleansVault.Gateway.Hosting;

namespace OrleansVault.Gateway.Pusher;

/// <summary>References of Pusher channels, keyed <c>{appId}/{channel}</c> (<see cref="GrainReferences{TGrain}"/>).</summary>
public sealed class ChannelReferences(IGrainFactory grains, SiloRouter? router = null) : GrainReferences<IChannelGrain>(grains, router)
{
    public IChannelGrain Get(string appId, string channel) => Get($"{appId}/{channel}");
}
