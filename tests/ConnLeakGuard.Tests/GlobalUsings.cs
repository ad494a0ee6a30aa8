global using Microsoft.AspNetCore.Http;
global using ConnLeakGuard.Tests.Infrastructure;
global using Xunit;
