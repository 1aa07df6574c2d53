using Microsoft.Extensions.Hosting;

namespace OrleansVault.Hosting.Encryption;

/// <summary>Loads the master key and unwraps the cluster's data key at start-up, so a wrong or missing key stops the process at once.</summary>
public sealed class EncryptionStartupCheck(StateProtector protector) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken) =>
        await protector.Keys.GetCurrentAsync(StateProtector.ClusterScope);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
