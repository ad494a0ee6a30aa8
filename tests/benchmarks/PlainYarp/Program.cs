// Plain YARP: one catch-all route to one destination, every proxy, Kestrel and HttpClient setting at its default.
// Routes and log levels come from appsettings.json next to the binary. bench.py sets the listen URL and the
// destination on the command line.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
app.Run();
