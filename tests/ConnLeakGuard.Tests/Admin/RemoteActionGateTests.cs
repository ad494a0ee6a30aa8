using System.Net;
using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>
/// The loopback check of state-changing admin requests, as a unit: the test machine has no non-loopback
/// address to connect from, so the end-to-end tests replace the address check instead.
/// </summary>
public sealed class RemoteActionGateTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Allows_LoopbackClient_ByDefault(string address)
    {
        var gate = new RemoteActionGate(new FixedOptions(new GuardOptions()));

        Assert.True(gate.Allows(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("192.0.2.10")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("2001:db8::1")]
    public void Allows_RemoteClient_OnlyWhenConfigured(string address)
    {
        var options = new GuardOptions();
        var gate = new RemoteActionGate(new FixedOptions(options));

        Assert.False(gate.Allows(IPAddress.Parse(address)));
        options.Admin.AllowRemoteActions = true;
        Assert.True(gate.Allows(IPAddress.Parse(address)));
    }

    [Fact]
    public void Allows_MissingAddress_Rejected()
    {
        var gate = new RemoteActionGate(new FixedOptions(new GuardOptions()));

        Assert.False(gate.Allows(null));
    }

    // An options monitor whose value a test changes in place.
    private sealed class FixedOptions(GuardOptions value) : IOptionsMonitor<GuardOptions>
    {
        public GuardOptions CurrentValue => value;

        public GuardOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<GuardOptions, string?> listener) => null;
    }
}
