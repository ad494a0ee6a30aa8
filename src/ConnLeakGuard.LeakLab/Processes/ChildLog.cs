using System.Globalization;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>A file that collects a child process's output lines, written from the process's event threads.</summary>
internal sealed class ChildLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;
    private readonly Queue<string> _tail = new();
    private bool _disposed;

    public ChildLog(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    /// <summary>The last lines written, oldest first, for error messages.</summary>
    public IReadOnlyList<string> Tail
    {
        get
        {
            lock (_gate)
            {
                return [.. _tail];
            }
        }
    }

    public void Write(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            string entry = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {stream}: {line}");
            _writer.WriteLine(entry);
            _tail.Enqueue(entry);
            if (_tail.Count > 20)
            {
                _tail.Dequeue();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _writer.Dispose();
        }
    }
}
