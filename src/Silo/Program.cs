using Microsoft.Extensions.Hosting;
using OrleansVault.Hosting;

// The standalone silo: the same grains, storage and streams the gateway co-hosts in embedded mode.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo => silo.AddVaultSilo(builder.Configuration));
await builder.Build().RunAsync();
