using OrleansVault.Proxy;

// The cluster's one URL: a reverse proxy (YARP) in front of the gateways, WebSockets included.
var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayProxy();
var app = builder.Build();
app.MapGatewayProxy();
await app.RunAsync();
