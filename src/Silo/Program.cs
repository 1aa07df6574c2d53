using Microsoft.Extensions.Hosting;
using OrleansVault.Hosting;
using OrleansVault.Hosting.Admin;
using OrleansVault.Hosting.Cluster;

// The standalone silo: the same grains and storage the gateway co-hosts in embedded mode.
var builder = Host.CreateApplicationBuilder(args);
if (args is ["admin", .. var adminArgs])
{
    return await VaultAdminCommand.RunAsync(adminArgs, builder.Configuration, Console.Out);
}

if (args is ["migrate", ..])
{
    // Cluster mode: create or update the PostgreSQL schema (idempotent).
    return await MigrateCommand.RunAsync(builder.Configuration, Console.Out);
}

builder.UseOrleans(silo => silo.AddVaultSilo(builder.Configuration));
await builder.Build().RunAsync();
return 0;
