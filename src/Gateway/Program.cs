using OrleansVault.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddVaultGateway();

var app = builder.Build();
app.UseVaultGateway();
await app.RunAsync();

/// <summary>The gateway's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
