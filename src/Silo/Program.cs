using Microsoft.Extensions.Hosting;
using OrleansVault.Hosting;
using OrleansVault.Hosting.Admin;
using OrleansVault.Hosting.Cluster;

// The standalone silo: the same grains and storage the gateway co-hosts in embedded mode.
// appsettings.json is read from beside the binary: `dotnet run --project src/Silo` keeps the caller's working directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
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
