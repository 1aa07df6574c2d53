using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansVault.Hosting;

/// <summary>Logs one line when the silo has joined its cluster and takes calls: what operators and process supervisors wait for.</summary>
public sealed partial class SiloReadyLog(ILocalSiloDetails silo, ILogger<SiloReadyLog> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloReadyLog), ServiceLifecycleStage.Active, _ =>
        {
            LogReady(logger, silo.SiloAddress.ToString(), silo.GatewayAddress?.ToString() ?? "-");
            return Task.CompletedTask;
        });

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Silo ready: {SiloAddress}, client gateway {GatewayAddress}")]
    private static partial void LogReady(ILogger logger, string siloAddress, string gatewayAddress);
}
