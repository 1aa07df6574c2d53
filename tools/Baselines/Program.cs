using OrleansVault.Baselines.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddBaselines();

var app = builder.Build();
app.MapBaselines();
await app.RunAsync();
