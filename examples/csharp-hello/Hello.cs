// A C# program for the SDK-versus-runtime chapter: compiled by mcs in the
// build stage, run by mono in the final stage.
using System;

class Hello
{
    static int Main()
    {
        Console.WriteLine("Hello from C#, running on " + Environment.Version);
        return 0;
    }
}
