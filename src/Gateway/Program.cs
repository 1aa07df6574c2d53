using OrleansVault.Gateway.Hosting;
using OrleansVault.Hosting.Admin;

var builder = WebApplication.CreateBuilder(args);
if (args is ["admin", .. var adminArgs])
{
    // Key management with this node's configuration (same appsettings, environment and command line).
    return await VaultAdminCommand.RunAsync(adminArgs, builder.Configuration, Console.Out);
}

builder.AddVaultGateway();

var app = builder.Build();
app.UseVaultGateway();
await app.RunAsync();
return 0;

/// <summary>The gateway's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
