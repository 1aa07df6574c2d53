using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Gateway.Auth;
using OrleansVault.Projects;

namespace OrleansVault.IntegrationTests;

[Collection(GatewayCollection.Name)]
public sealed class ResumeOwnershipTests(SharedGateway gateway)
{
    [Fact]
    public async Task A_client_of_another_api_key_cannot_resume_or_displace_a_connection()
    {
        var factory = gateway.Factory;
        var otherKey = "other-" + Guid.NewGuid().ToString("N")[..8];
        var otherSecret = "other-secret-" + Guid.NewGuid().ToString("N");
        var pepper = (await factory.Services.GetRequiredService<KeyRingCache>().GetAsync()).Pepper;
        var snapshot = await factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IProjectGrain>(GatewayFactory.ProjectId)
            .UpsertKey(new ApiKeyRecord(otherKey, SecretHasher.Hash(pepper, otherSecret), [], true, false, 0));
        factory.Services.GetRequiredService<ProjectDirectory>().Update(snapshot);

        var id = "owned-" + Guid.NewGuid().ToString("N");
        var victim = await factory.ConnectAsync("c", id, factory.BasicHeader);
        var victimFrames = new FrameReader(victim);
        var victimId = (await victimFrames.NextAsync()).GetProperty("connectionId").GetString();

        using var intruder = await factory.ConnectAsync("c", id, GatewayFactory.BasicFor(otherKey, otherSecret));
        var intruderFrames = new FrameReader(intruder);
        await intruderFrames.NextAsync();

        // While the victim is live: refused, and the victim's socket stays up.
        await intruderFrames.SendAsync(new { @event = "resume", connectionId = victimId });
        Assert.Equal("Invalid resume token", (await intruderFrames.NextEventAsync("error")).GetProperty("payload").GetString());
        await victimFrames.SendAsync(new { @event = "ping" });
        await victimFrames.NextEventAsync("pong");

        // After the victim dropped: still refused.
        await victim.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        victim.Dispose();
        await intruderFrames.SendAsync(new { @event = "resume", connectionId = victimId });
        Assert.Equal("Invalid resume token", (await intruderFrames.NextEventAsync("error")).GetProperty("payload").GetString());

        // The owner can.
        using var owner = await factory.ConnectAsync("c", id, factory.BasicHeader);
        var ownerFrames = new FrameReader(owner);
        await ownerFrames.NextAsync();
        await ownerFrames.SendAsync(new { @event = "resume", connectionId = victimId });
        Assert.Equal(victimId, (await ownerFrames.NextEventAsync("resume:ack")).GetProperty("connectionId").GetString());
    }
}
