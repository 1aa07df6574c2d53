using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Gateway.Auth;
using OrleansVault.Projects;

namespace OrleansVault.IntegrationTests;

public sealed class KeyRotationTests
{
    [Fact]
    public async Task Tokens_of_a_signing_key_that_left_the_ring_are_refused_even_after_being_verified_before()
    {
        await using var factory = new GatewayFactory();
        try
        {
            var path = $"/project/{GatewayFactory.ProjectId}/cache/c/rotation";
            var old = await factory.TokenAsync();
            using (var client = factory.Client("Bearer " + old))
            {
                // Used twice: verified once, then remembered.
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
            }

            await factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyRingGrain>(IKeyRingGrain.KeyRingKey).RotateSigningKey(TimeSpan.Zero);
            factory.Services.GetRequiredService<KeyRingCache>().Invalidate();

            using (var stale = factory.Client("Bearer " + old))
            {
                var refused = await stale.GetAsync(path);
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.Equal("authenticationError.token.invalid", await HttpApiTests.CodeAsync(refused));
            }

            var fresh = await factory.TokenAsync();
            Assert.NotEqual(old, fresh);
            using var client2 = factory.Client("Bearer " + fresh);
            Assert.Equal(HttpStatusCode.OK, (await client2.GetAsync(path)).StatusCode);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
